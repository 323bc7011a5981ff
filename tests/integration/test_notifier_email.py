"""E-mail delivery to a real SMTP server (aiosmtpd) that is down for a while."""

from email.message import Message
from pathlib import Path

import asyncpg

from services.runtime.session_calendar import session_uid
from tests.calendars import ReadCalendar, read_calendar
from tests.integration.kafka_io import eventually
from tests.integration.peers import notifier_harness as h
from tests.integration.peers.smtp import SmtpServer


async def test_smtp_down_for_a_while_gets_the_mail_after_it_comes_back(
    bootstrap: str, suffix: str, tmp_path: Path, db: asyncpg.Connection
) -> None:
    smtp = SmtpServer()  # not started yet: the mail server is down
    physician = {"channel": "email", "address": "dr@north.example"}
    routing = h.routing_file(tmp_path, {"physician": physician}, smtp=h.local_smtp(smtp.port))
    service = await h.Notifier.start(bootstrap, suffix, routing, delivery_max_attempts=10)
    patient = h.new_patient()
    try:
        await service.send(h.schedule_event("cancelled", patient))

        async def failed_twice() -> bool:
            # An attempt is counted when it starts: the third has started only after the
            # second failed (the second may still be under way when the count shows 2).
            attempts = await db.fetchval(
                f"SELECT attempts FROM notif_{suffix}.deliveries WHERE patient_id = $1", patient
            )
            return attempts is not None and attempts >= 3

        await eventually(failed_twice)
        assert smtp.messages == []
        smtp.start()
        [issued] = await service.issued(patient, 1)
    finally:
        await service.runtime.stop()
        smtp.stop()
    assert issued["delivery"] == "delivered"
    assert issued["attempts"] >= 3
    assert issued["channel"] == "email"
    [mail] = smtp.messages
    assert mail["To"] == "dr@north.example"
    assert mail["Message-ID"] == f"<{issued['notice_id']}@courseflow>"
    assert mail["Subject"] == f"[courseflow] course cancelled: {patient}"
    assert issued["summary"] in mail.get_payload(decode=True).decode()  # type: ignore[union-attr]


async def test_without_the_local_opt_out_mail_is_never_sent_in_plain_text(
    bootstrap: str, suffix: str, tmp_path: Path
) -> None:
    smtp = SmtpServer().start()  # speaks no TLS, and says so: no STARTTLS in its EHLO answer
    server = {"host": "127.0.0.1", "port": smtp.port, "sender": "courseflow@north.example"}
    physician = {"channel": "email", "address": "dr@north.example"}
    routing = h.routing_file(tmp_path, {"physician": physician}, smtp=server)
    service = await h.Notifier.start(bootstrap, suffix, routing, delivery_max_attempts=2)
    patient = h.new_patient()
    try:
        await service.send(h.schedule_event("cancelled", patient))
        [issued] = await service.issued(patient, 1)
    finally:
        await service.runtime.stop()
        smtp.stop()
    assert (issued["delivery"], issued["attempts"]) == ("failed", 2)
    assert smtp.messages == []


async def test_a_schedule_change_mails_its_sessions_for_the_calendar_then_cancels_them(
    bootstrap: str, suffix: str, tmp_path: Path
) -> None:
    smtp = SmtpServer().start()
    physician = {"channel": "email", "address": "dr@north.example"}
    routing = h.routing_file(tmp_path, {"physician": physician}, smtp=h.local_smtp(smtp.port))
    service = await h.Notifier.start(bootstrap, suffix, routing, clinic_timezone="Europe/Berlin")
    patient = h.new_patient()
    # Ahead of any day this runs on, on both sides of the change to summer time (31 March).
    sessions = [
        {"session_id": "C9-s01", "number": 1, "on": "2030-03-29",
         "starts_at": "2030-03-29T09:00:00+01:00", "duration_min": 7, "notes": []},
        {"session_id": "C9-s02", "number": 2, "on": "2030-04-01",
         "starts_at": "2030-04-01T09:00:00+02:00", "duration_min": 8, "notes": []},
    ]  # fmt: skip
    course = {"course_id": "C9", "completed_sessions": 0}
    try:
        await service.send(h.schedule_event("scheduled", patient, **course, version=1,
                                            sessions=sessions))  # fmt: skip
        await service.issued(patient, 1)
        await service.send(h.schedule_event("cancelled", patient, **course, version=2))
        await service.issued(patient, 2)
    finally:
        await service.runtime.stop()
        smtp.stop()
    scheduled, cancelled = sorted(smtp.messages, key=lambda m: "cancelled" in m["Subject"])
    request, cancel = calendar_of(scheduled), calendar_of(cancelled)
    assert (request.method, cancel.method) == ("REQUEST", "CANCEL")
    uids = {session_uid(patient, "C9", session_id) for session_id in ("C9-s01", "C9-s02")}
    assert set(request.events) == set(cancel.events) == uids
    assert {e.wall_clock for e in request.events.values()} == {"09:00"}
    assert {(e.sequence, e.status) for e in request.events.values()} == {(1, "CONFIRMED")}
    assert {(e.sequence, e.status) for e in cancel.events.values()} == {(2, "CANCELLED")}
    assert all(patient in e.summary for e in request.events.values())


def calendar_of(mail: Message) -> ReadCalendar:
    """The mail's one calendar part, read back; its method parameter is its METHOD."""
    [part] = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    calendar = read_calendar(payload)
    assert calendar.method == part.get_param("method")
    assert mail.get_content_type() == "multipart/alternative"
    return calendar
