"""A burst of plan changes for one patient within the coalescing window is one notice."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.peers import notifier_harness as h
from tests.integration.peers.webhook import WebhookReceiver


@pytest.fixture
async def coalescing(bootstrap: str, suffix: str, tmp_path: Path) -> AsyncIterator[h.Notifier]:
    receiver = await WebhookReceiver().start()
    # The plan's kinds only: the examples' sessions name a therapist, whose notice stands alone.
    plan = [{"kinds": ["course_suspended", "course_resumed"], "recipients": ["front-desk"]}]
    routing = h.routing_file(tmp_path, {"front-desk": h.local_webhook(receiver)}, routes=plan)
    service = await h.Notifier.start(bootstrap, suffix, routing, coalesce_window_s=2.0)
    service.webhook = receiver
    try:
        yield service
    finally:
        await service.runtime.stop()
        await receiver.stop()


async def test_suspension_then_resumption_in_the_window_is_one_notice(
    coalescing: h.Notifier,
) -> None:
    patient = h.new_patient()
    suspended = h.schedule_event("suspended", patient)
    resumed = h.schedule_event("resumed", patient, rules=["R-REMISSION"])
    await coalescing.send(suspended, resumed)
    issued = await coalescing.issued(patient, 2)
    assert sorted(i["kind"] for i in issued) == ["course_resumed", "course_suspended"]
    assert {i["delivery"] for i in issued} == {"delivered"}
    [body] = coalescing.webhook.bodies()
    assert body["kind"] == "course_resumed"
    assert "replaces 1 earlier notice(s): course_suspended" in body["summary"]
    assert body["summary"].endswith("(R-REMISSION, R-FLARE)")
    by_kind = {i["kind"]: i["notice_id"] for i in issued}
    assert body["merged_notice_ids"] == [by_kind["course_suspended"]]
    assert len(coalescing.webhook.requests) == 1
