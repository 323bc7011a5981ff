"""Webhook delivery on the real broker and database, to a real local HTTP receiver."""

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests.integration.kafka_io import eventually, read_until
from tests.integration.peers import notifier_harness as h
from tests.integration.peers.webhook import SECRET, WebhookReceiver


async def start_notifier(
    bootstrap: str, suffix: str, tmp_path: Path, receiver_secret: str = SECRET, **overrides: Any
) -> h.Notifier:
    receiver = await WebhookReceiver().start()
    receiver.secret = receiver_secret
    routing = h.routing_file(tmp_path, {"front-desk": h.local_webhook(receiver)})
    service = await h.Notifier.start(bootstrap, suffix, routing, **overrides)
    service.webhook = receiver
    return service


@pytest.fixture
async def notifier(bootstrap: str, suffix: str, tmp_path: Path) -> AsyncIterator[h.Notifier]:
    service = await start_notifier(bootstrap, suffix, tmp_path)
    try:
        yield service
    finally:
        await service.runtime.stop()
        await service.webhook.stop()


async def test_webhook_failing_twice_then_ok_gets_the_notice_exactly_once(
    notifier: h.Notifier,
) -> None:
    notifier.webhook.fail_next = 2
    patient = h.new_patient()
    await notifier.send(h.schedule_event("suspended", patient))
    [issued] = await notifier.issued(patient, 1)
    assert issued["delivery"] == "delivered"
    assert issued["attempts"] == 3
    assert issued["kind"] == "course_suspended"
    assert issued["recipient"] == "front-desk"
    assert issued["channel"] == "webhook"
    assert len(notifier.webhook.requests) == 3
    assert notifier.webhook.bad_signatures == 0
    [body] = notifier.webhook.bodies()
    assert body["notice_id"] == issued["notice_id"] == notifier.webhook.requests[0]
    assert body["summary"] == issued["summary"]
    assert body["summary"].startswith(f"Patient {patient}: course C-2026-0042 suspended")


async def test_redelivered_schedule_event_gives_one_notice(notifier: h.Notifier) -> None:
    patient, sentinel = h.new_patient(), h.new_patient()
    event = h.schedule_event("completed", patient)
    await notifier.send(event, event, h.schedule_event("resumed", sentinel))
    await notifier.issued(sentinel, 1)  # both copies were handled before the sentinel
    issued = await notifier.issued(patient, 1)
    assert [i["kind"] for i in issued] == ["course_completed"]
    assert len([b for b in notifier.webhook.bodies() if b["patient_id"] == patient]) == 1
    assert notifier.webhook.requests.count(issued[0]["notice_id"]) == 1


async def test_permanently_failing_recipient_ends_failed_and_dead_lettered(
    notifier: h.Notifier, db: asyncpg.Connection
) -> None:
    notifier.webhook.always_fail = True
    patient = h.new_patient()
    event = h.schedule_event("review_requested", patient)
    await notifier.send(event)
    [issued] = await notifier.issued(patient, 1)
    assert issued["delivery"] == "failed"
    assert issued["attempts"] == 5  # the cap
    assert issued["kind"] == "repeated_pain_review"
    dead = await read_until(notifier.bootstrap, f"dead-{notifier.suffix}",
                            lambda rs: any(r.key == patient.encode() for r in rs))  # fmt: skip
    [letter] = [r for r in dead if r.key == patient.encode()]
    headers = {k: v.decode() for k, v in letter.headers}
    assert headers["x-consumer"] == "notifier"
    assert headers["x-source-topic"] == f"sched-{notifier.suffix}"
    assert headers["x-error"] == (
        "notice not delivered after 5 attempt(s): webhook answered HTTP 500"
    )
    assert notifier.webhook.requests == [issued["notice_id"]] * 5  # one send per attempt
    assert json.loads(letter.value)["data"]["notice_id"] == issued["notice_id"]
    status = await db.fetchval(
        f"SELECT status FROM notif_{notifier.suffix}.deliveries WHERE cause_id = $1", event.id
    )
    assert status == "failed"


async def test_rehab_eligibility_after_r_postop_is_announced(notifier: h.Notifier) -> None:
    patient = h.new_patient()
    postop = [{"rule": "R-POSTOP", "since": "2026-03-04", "until": "2026-03-18"}]
    await notifier.send(h.decision_event(patient, 1, eligible=False, blocks=postop),
                        h.decision_event(patient, 2, eligible=True), topic="elig")  # fmt: skip
    [issued] = await notifier.issued(patient, 1)
    assert issued["kind"] == "rehab_course_eligible"
    assert issued["rules"] == ["R-POSTOP"]
    await eventually(lambda: len(notifier.webhook.bodies()) == 1)


async def test_a_receiver_with_another_secret_rejects_the_signature_and_the_notice_fails(
    bootstrap: str, suffix: str, tmp_path: Path
) -> None:
    other = "whsec_" + base64.b64encode(b"a-secret-the-notifier-does-not-have").decode()
    service = await start_notifier(bootstrap, suffix, tmp_path, receiver_secret=other)
    try:
        patient = h.new_patient()
        await service.send(h.schedule_event("suspended", patient))
        [issued] = await service.issued(patient, 1)
    finally:
        await service.runtime.stop()
        await service.webhook.stop()
    assert (issued["delivery"], issued["attempts"]) == ("failed", 1)  # 401: permanent
    assert service.webhook.bad_signatures == 1
    assert service.webhook.bodies() == []
