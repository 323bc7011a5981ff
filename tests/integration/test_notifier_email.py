"""E-mail delivery to a real SMTP server (aiosmtpd) that is down for a while."""

from pathlib import Path

import asyncpg

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
