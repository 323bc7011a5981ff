"""Notices of a rostered clinic through the notifier service on the real broker and database:
each therapist whose day changed is told once per schedule event on the channel the routing
file maps them to, the front desk once per new R-CAPACITY shortage, whatever is redelivered.
"""

from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg

from services.notifier.kinds import Kind
from services.runtime.session_calendar import session_uid
from tests.integration.peers import notifier_harness as h
from tests.integration.peers.smtp import SmtpServer
from tests.integration.peers.webhook import WebhookReceiver
from tests.integration.test_notifier_email import calendar_of

COURSE = "C-R1"
THERAPIST = Kind.THERAPIST_SCHEDULE_CHANGED.value


def session(number: int, on: str, therapist: str | None) -> dict[str, Any]:
    return {"session_id": f"{COURSE}-s{number}", "number": number, "on": on,
            "starts_at": f"{on}T09:00:00+00:00" if therapist else None, "duration_min": 7,
            "notes": [], "therapist_id": therapist}  # fmt: skip


def routing(folder: Path, webhook: WebhookReceiver, smtp: SmtpServer) -> Path:
    recipients = {
        "anna": h.local_webhook(webhook), "front-desk": h.local_webhook(webhook),
        "ben": {"channel": "email", "address": "ben@north.example"},
    }  # fmt: skip
    return h.routing_file(
        folder, recipients, smtp=h.local_smtp(smtp.port), therapists={"T1": "anna", "T2": "ben"},
        routes=[{"kinds": ["sessions_rescheduled", "capacity_shortage"],
                 "recipients": ["front-desk"]}],
    )  # fmt: skip


async def test_therapists_and_the_front_desk_are_told_once_per_cause(
    bootstrap: str, suffix: str, tmp_path: Path, db: asyncpg.Connection
) -> None:
    webhook, smtp = await WebhookReceiver().start(), SmtpServer().start()
    service = await h.Notifier.start(bootstrap, suffix, routing(tmp_path, webhook, smtp))
    patient = h.new_patient()
    course = {"course_id": COURSE, "completed_sessions": 0}
    plan = [session(1, "2030-03-04", "T1"), session(2, "2030-03-06", "T1"),
            session(3, "2030-03-08", "T2")]  # fmt: skip
    scheduled = h.schedule_event("scheduled", patient, **course, version=1, sessions=plan)
    moved = {"session_id": f"{COURSE}-s1", "from_on": "2030-03-04", "to_on": "2030-03-04",
             "from_starts_at": "2030-03-04T09:00:00+00:00",
             "to_starts_at": "2030-03-04T09:00:00+00:00",
             "from_therapist_id": "T1", "to_therapist_id": "T2"}  # fmt: skip
    rescheduled = h.schedule_event(
        "rescheduled", patient, **course, version=2,
        rules=["R-THERAPIST-ABSENT", "R-CAPACITY"], changes=[moved],
        sessions=[session(1, "2030-03-04", "T2"), *plan[1:], session(4, "2030-03-11", None)],
        capacity_shortage_on=["2030-03-11"],
    )  # fmt: skip
    cancelled = h.schedule_event("cancelled", patient, **course, version=3, status="cancelled",
                                 sessions=[], reason="withdrawal")  # fmt: skip
    try:
        # The rescheduling is delivered twice, as a redelivery after a crash would.
        await service.send(scheduled, rescheduled, rescheduled, cancelled)
        # scheduled: anna, ben; rescheduled: anna, ben, the front desk twice; cancelled:
        # anna (s2), ben (s1, s3).
        issued = await service.issued(patient, 8)
        queued = await db.fetch(
            f"SELECT cause_id, kind, recipient FROM notif_{suffix}.deliveries "
            "WHERE patient_id = $1",
            patient,
        )
    finally:
        await service.runtime.stop()
        await webhook.stop()
        smtp.stop()
    assert len(issued) == len(queued) == 8
    assert {i["delivery"] for i in issued} == {"delivered"}
    per_cause = Counter((i["cause_id"], i["kind"], i["recipient"]) for i in issued)
    assert set(per_cause.values()) == {1}
    told = {(i["cause_id"], i["kind"], i["recipient"]) for i in issued}
    assert told == {
        (scheduled.id, THERAPIST, "anna"), (scheduled.id, THERAPIST, "ben"),
        (rescheduled.id, THERAPIST, "anna"), (rescheduled.id, THERAPIST, "ben"),
        (rescheduled.id, "sessions_rescheduled", "front-desk"),
        (rescheduled.id, "capacity_shortage", "front-desk"),
        (cancelled.id, THERAPIST, "anna"), (cancelled.id, THERAPIST, "ben"),
    }  # fmt: skip
    summaries = {(i["cause_id"], i["kind"], i["recipient"]): i["summary"] for i in issued}
    assert summaries[rescheduled.id, "capacity_shortage", "front-desk"] == (
        f"Patient {patient}: course {COURSE}: no therapist free within the capacity horizon "
        "for its sessions on 2030-03-11; they wait (R-THERAPIST-ABSENT, R-CAPACITY)"
    )
    assert summaries[cancelled.id, THERAPIST, "ben"] == (
        f"Patient {patient}: course {COURSE} cancelled; days changed for therapist T2: "
        "2030-03-04, 2030-03-08 (R-POSTOP)"
    )
    anna = [b for b in webhook.bodies() if b["recipient"] == "anna"]
    assert sorted(b["cause_id"] for b in anna) == sorted([scheduled.id, rescheduled.id,
                                                          cancelled.id])  # fmt: skip
    # Ben's mail for the rescheduling carries the session now his, for his calendar.
    ids = {(i["cause_id"], i["kind"], i["recipient"]): i["notice_id"] for i in issued}
    message_id = f"<{ids[rescheduled.id, THERAPIST, 'ben']}@courseflow>"
    [mail] = [m for m in smtp.messages if m["Message-ID"] == message_id]
    assert mail["To"] == "ben@north.example"
    update = calendar_of(mail)
    assert update.method == "REQUEST"
    assert set(update.events) == {session_uid(patient, COURSE, f"{COURSE}-s1")}


async def test_with_coalescing_a_therapist_notice_is_never_merged(
    bootstrap: str, suffix: str, tmp_path: Path
) -> None:
    webhook = await WebhookReceiver().start()
    recipients = {"anna": h.local_webhook(webhook)}
    routes = [{"kinds": ["course_scheduled"], "recipients": ["anna"]}]
    path = h.routing_file(tmp_path, recipients, therapists={"T1": "anna"}, routes=routes)
    service = await h.Notifier.start(bootstrap, suffix, path, coalesce_window_s=2.0)
    patient = h.new_patient()
    course = {"course_id": COURSE, "completed_sessions": 0}
    course = {**course, "rules": []}
    first = h.schedule_event("scheduled", patient, **course, version=1,
                             sessions=[session(1, "2030-03-04", "T1")])  # fmt: skip
    second = h.schedule_event("scheduled", patient, **course, version=2,
                              sessions=[session(1, "2030-03-05", "T1")])  # fmt: skip
    try:
        await service.send(first, second)
        issued = await service.issued(patient, 4)
    finally:
        await service.runtime.stop()
        await webhook.stop()
    kinds = sorted(b["kind"] for b in webhook.bodies())
    # The plan notices merge into one; each therapist notice is delivered on its own.
    assert kinds == ["course_scheduled", THERAPIST, THERAPIST]
    assert {i["delivery"] for i in issued} == {"delivered"}
    therapist = [b["summary"] for b in webhook.bodies() if b["kind"] == THERAPIST]
    days = sorted(summary.rsplit(": ", 1)[1] for summary in therapist)
    assert days == ["2030-03-04", "2030-03-05"]
