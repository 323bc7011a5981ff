"""The `courseflow` command for people: the local stack, the services, the contract artefacts."""

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from services import SERVICES

if TYPE_CHECKING:
    from services.ops.calendar import Asked

URL_KEY_VARIABLE = "COURSEFLOW_PLANNER_CALENDAR_URL_KEY"


def password_variable(service: str) -> str:
    """Where `courseflow db provision` reads the password of a service's database role."""
    return f"COURSEFLOW_{service.upper()}_DB_PASSWORD"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="courseflow", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    stack = commands.add_parser("stack", help="local Apache Kafka and PostgreSQL (and Prometheus)")
    stack.add_argument("action", choices=("up", "down", "status"))
    stack.add_argument(
        "--brokers",
        type=int,
        default=1,
        help="with up: KRaft nodes (3: a broker+controller quorum of three, RF 3, min ISR 2)",
    )
    stack.add_argument(
        "--monitoring",
        action="store_true",
        help="with up: also Prometheus scraping the services, with monitoring/alerts.yml, on "
        "127.0.0.1:COURSEFLOW_PROMETHEUS_PORT (59090)",
    )

    run = commands.add_parser("run", help="run one service in the foreground")
    run.add_argument("service", choices=SERVICES)

    demo = commands.add_parser("demo", help="the whole local system with demo patients")
    demo.add_argument(
        "--traffic-only",
        action="store_true",
        help="only send demo traffic to the configured broker and show the results",
    )

    patient = commands.add_parser("patient", help="a patient's decision, courses, plan, notices")
    patient.add_argument("patient_id")

    _therapist_parser(commands)

    _calendar_parser(commands)

    dead = commands.add_parser("dead-letters", help="inspect and replay dead letters")
    dead.add_argument("action", choices=("list", "replay"))
    dead.add_argument(
        "positions",
        nargs="*",
        metavar="PARTITION:OFFSET",
        help="with replay: the dead letters to re-inject (see list)",
    )
    dead.add_argument("--all", action="store_true", help="with replay: every dead letter")

    db = commands.add_parser(
        "db",
        help="provision the services' database roles and schemas, or prune old rows",
        description="provision: the role courseflow_<service> owning only the schema <service>, "
        "for each service; the password of a role comes from "
        f"{password_variable('<SERVICE>')} when set (a role without one keeps its password). "
        "prune: delete inbox rows, sent outbox rows and finished deliveries older than their "
        "retention (COURSEFLOW_RETENTION_INBOX_DAYS, _OUTBOX_DAYS, _DELIVERIES_DAYS), in "
        "batches of COURSEFLOW_PRUNE_BATCH_SIZE; idempotent",
    )
    db.add_argument("action", choices=("provision", "prune"))
    db.add_argument(
        "--admin-url",
        help="a superuser's URL, with the database to provision or prune as its path "
        "(default: COURSEFLOW_DATABASE_URL, else the local stack's cluster)",
    )
    db.add_argument(
        "--older-than",
        type=int,
        metavar="DAYS",
        help="with prune: one retention for every table instead of the settings",
    )

    outbox = commands.add_parser("outbox", help="outbox rows the relay parked (never sent)")
    outbox.add_argument("action", choices=("parked",))
    outbox.add_argument("--service", help="only this service's schema (default: every service)")

    schemas = commands.add_parser("schemas", help="the wire contract's generated documents")
    schemas.add_argument("action", choices=("generate",))
    return parser


def _therapist_parser(commands: Any) -> None:
    from services.ops.therapist import MAX_DAYS  # noqa: PLC0415

    therapist = commands.add_parser(
        "therapist",
        help="a therapist's days: hours, absence, sessions booked and free time",
        description="Day by day in the clinic's local time (PLANNER_CLINIC_TIMEZONE): the "
        "roster's hours, an absence, each session booked (patient, course, session) and the "
        "free time (the hours less each session and PLANNER_TURNOVER_MIN around it).",
    )
    therapist.add_argument("therapist_id")
    therapist.add_argument(
        "--clinic", help="the clinic, when several rostered the therapist (they are listed)"
    )
    therapist.add_argument(
        "--from", dest="from_on", type=_date, metavar="YYYY-MM-DD",
        help="the first day (default: today in the clinic)",
    )  # fmt: skip
    therapist.add_argument(
        "--days", type=_bounded(1, MAX_DAYS), default=7, metavar="N",
        help=f"how many days (1 to {MAX_DAYS}; default 7)",
    )  # fmt: skip


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _bounded(low: int, high: int) -> Callable[[str], int]:
    def number(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"not a whole number from {low} to {high}: {text!r}")
        return value

    return number


def _calendar_parser(commands: Any) -> None:
    calendar = commands.add_parser(
        "calendar",
        help="a course's or a therapist's calendar feed: its secret URL, or revoke it",
        description="url: print the feed's secret URL (made once; the same URL while it is "
        "not revoked), under PLANNER_CALENDAR_BASE_URL, made with PLANNER_CALENDAR_URL_KEY. "
        "revoke: the URL answers 404 from now on; the next `url` makes a new one.",
    )
    actions = calendar.add_subparsers(dest="calendar_action", required=True)
    for action in ("url", "revoke"):
        feeds = actions.add_parser(action).add_subparsers(dest="feed", required=True)
        course = feeds.add_parser("course", help="one course of one patient")
        course.add_argument("patient_id")
        course.add_argument("course_id")
        therapist = feeds.add_parser("therapist", help="one therapist's booked sessions")
        therapist.add_argument("therapist_id")
        therapist.add_argument(
            "--clinic", help="the therapist's clinic (needed when several roster them)"
        )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    commands: dict[str, Callable[[argparse.Namespace], int]] = {
        "stack": lambda a: _stack(a.action, a.brokers, monitoring=a.monitoring),
        "run": lambda a: _run(a.service),
        "patient": lambda a: _patient(a.patient_id),
        "therapist": lambda a: _therapist(a.therapist_id, a.clinic, a.from_on, a.days),
        "calendar": _calendar,
        "dead-letters": lambda a: _dead_letters(a.action, a.positions, replay_all=a.all),
        "demo": lambda a: _demo(traffic_only=a.traffic_only),
        "schemas": lambda _a: _schemas(),
        "db": lambda a: (
            _db_prune(a.admin_url, a.older_than)
            if a.action == "prune"
            else _db_provision(a.admin_url, os.environ)
        ),
        "outbox": lambda a: _outbox_parked(a.service),
    }
    try:
        return commands[args.command](args)
    except KeyboardInterrupt:
        return 130


def _demo(*, traffic_only: bool) -> int:
    from services.demo.runner import run_demo  # noqa: PLC0415

    return run_demo(traffic_only=traffic_only)


def _schemas() -> int:
    from schemas.generate import write  # noqa: PLC0415

    for path in write():
        print(f"wrote {path}")
    return 0


def _stack(action: str, brokers: int = 1, *, monitoring: bool = False) -> int:
    from services.stack import stack  # noqa: PLC0415

    actions = {
        "up": lambda: stack.up(brokers, monitoring=monitoring),
        "down": stack.down,
        "status": stack.status,
    }
    try:
        lines = actions[action]()
    except (RuntimeError, OSError) as exc:
        print(f"courseflow stack {action}: {exc}", file=sys.stderr)
        return 1
    for line in lines:
        print(line)
    return 0


def _patient(patient_id: str) -> int:
    from services.ops.patient import patient_report  # noqa: PLC0415
    from services.runtime.settings import ServiceSettings  # noqa: PLC0415

    for line in asyncio.run(patient_report(ServiceSettings().database_url, patient_id)):
        print(line)
    return 0


def _therapist(therapist_id: str, clinic_id: str | None, from_on: date | None, days: int) -> int:
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    import asyncpg  # noqa: PLC0415
    from pydantic import ValidationError  # noqa: PLC0415

    from services.ops.therapist import (  # noqa: PLC0415
        TherapistQuery,
        TherapistRefusedError,
        therapist_report,
    )
    from services.planner.settings import PlannerSettings  # noqa: PLC0415
    from services.runtime.clock import SystemClock, local_today  # noqa: PLC0415
    from services.runtime.settings import ServiceSettings  # noqa: PLC0415

    try:
        planner = PlannerSettings()
        zone = ZoneInfo(planner.clinic_timezone)
    except ValidationError as exc:  # names the setting, never its value
        error = exc.errors()[0]
        setting = "_".join(str(part) for part in error["loc"]).upper()
        print(f"courseflow therapist: PLANNER_{setting}: {error['msg']}", file=sys.stderr)
        return 2
    except (KeyError, ValueError):  # not found (a KeyError) or not a zone name
        print("courseflow therapist: PLANNER_CLINIC_TIMEZONE: not a time zone", file=sys.stderr)
        return 2
    first = from_on or local_today(SystemClock(), planner.clinic_timezone)
    query = TherapistQuery(therapist_id, first, days, clinic_id)
    database_url, turnover_min = ServiceSettings().database_url, planner.turnover_min
    try:
        lines = asyncio.run(therapist_report(database_url, query, zone, turnover_min))
    except TherapistRefusedError as exc:
        print(f"courseflow therapist: {exc}", file=sys.stderr)
        return 2
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        print(f"courseflow therapist: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    for line in lines:
        print(line)
    return 0


def _calendar(args: argparse.Namespace) -> int:
    import asyncpg  # noqa: PLC0415

    from services.ops import calendar  # noqa: PLC0415
    from services.ops.therapist import TherapistRefusedError  # noqa: PLC0415
    from services.planner.feeds.store import CourseFeed  # noqa: PLC0415
    from services.runtime.settings import ServiceSettings  # noqa: PLC0415

    action, database_url = args.calendar_action, ServiceSettings().database_url
    asked: calendar.Asked = (
        CourseFeed(args.patient_id, args.course_id)
        if args.feed == "course"
        else calendar.TherapistAsked(args.therapist_id, args.clinic)
    )
    try:
        if action == "url":
            return _calendar_url(database_url, asked)
        revoked = asyncio.run(calendar.revoke_feed_url(database_url, asked))
        print("URL revoked" if revoked else "no live URL for that feed: nothing to revoke")
    except TherapistRefusedError as exc:  # no one therapist feed named: a usage error
        print(f"courseflow calendar {action}: {exc}", file=sys.stderr)
        return 2
    except calendar.FeedRefusedError as exc:
        print(f"courseflow calendar {action}: {exc}", file=sys.stderr)
        return 1
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        print(f"courseflow calendar {action}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


def _calendar_url(database_url: str, asked: "Asked") -> int:
    from pydantic import ValidationError  # noqa: PLC0415

    from services.ops import calendar  # noqa: PLC0415
    from services.planner.settings import PlannerSettings  # noqa: PLC0415

    try:
        planner = PlannerSettings()
    except ValidationError as exc:  # names the setting, never its value
        error = exc.errors()[0]
        setting = "_".join(str(part) for part in error["loc"]).upper()
        print(f"courseflow calendar url: PLANNER_{setting}: {error['msg']}", file=sys.stderr)
        return 2
    if planner.calendar_url_key is None:
        print(f"courseflow calendar url: set {URL_KEY_VARIABLE} (at least 32 characters, "
              "e.g. from `python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`) "
              "and keep it: every URL is made with it", file=sys.stderr)  # fmt: skip
        return 2
    key = planner.calendar_url_key.get_secret_value()
    print(asyncio.run(calendar.feed_url(database_url, asked, key, planner.calendar_base)))
    return 0


def _dead_letters(action: str, positions: list[str], *, replay_all: bool) -> int:
    from services.ops.deadletters import read_all, replay  # noqa: PLC0415
    from services.runtime.kafka_security import client_options  # noqa: PLC0415
    from services.runtime.settings import ServiceSettings  # noqa: PLC0415

    settings = ServiceSettings()
    options = client_options(settings)  # the services' SASL/TLS settings
    bootstrap, topic = settings.kafka_bootstrap_servers, settings.topic_dead_letters
    letters = asyncio.run(read_all(bootstrap, topic, options=options))
    if action == "list":
        for letter in letters:
            print(letter.describe())
        print(f"{len(letters)} dead letters in {topic}")
        return 0
    chosen = letters if replay_all else [d for d in letters if d.position in set(positions)]
    if not chosen:
        print("nothing to replay: name PARTITION:OFFSET positions from `list`, or --all")
        return 1
    plan = asyncio.run(replay(bootstrap, chosen, topic, options=options))
    for letter, reason in plan.refused:
        print(f"{letter.position} refused: {reason}", file=sys.stderr)
    print(
        f"replayed {len(plan.send)} dead letters ({len(plan.already)} already replayed, "
        f"{len(plan.refused)} refused)"
    )
    return 1 if plan.refused else 0


def _outbox_parked(service: str | None) -> int:
    import asyncpg  # noqa: PLC0415

    from services.ops.outbox import parked_rows  # noqa: PLC0415
    from services.runtime.settings import ServiceSettings  # noqa: PLC0415

    services = [service] if service else list(SERVICES)
    try:
        rows = asyncio.run(parked_rows(ServiceSettings().database_url, services))
    except ValueError as exc:  # not a schema name
        print(f"courseflow outbox parked: {exc}", file=sys.stderr)
        return 2
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        print(f"courseflow outbox parked: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    for row in rows:
        print(row.describe())
    print(f"{len(rows)} parked outbox rows in {', '.join(services)}")
    return 0


def db_passwords(environ: Mapping[str, str]) -> dict[str, str]:
    """Each service's role password from its variable; unset or empty leaves it unchanged."""
    passwords = {service: environ.get(password_variable(service), "") for service in SERVICES}
    return {service: password for service, password in passwords.items() if password}


def _db_provision(admin_url: str | None, environ: Mapping[str, str]) -> int:
    import asyncpg  # noqa: PLC0415

    from services.runtime.settings import ServiceSettings  # noqa: PLC0415
    from services.stack import roles  # noqa: PLC0415

    url = admin_url or ServiceSettings().database_url
    database = unquote(urlsplit(url).path.lstrip("/"))
    if not database:
        print("courseflow db provision: the admin URL names no database", file=sys.stderr)
        return 2
    passwords = db_passwords(environ)
    try:
        asyncio.run(roles.provision(url, database, passwords))
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        # Neither the URL nor a password is printed: only what went wrong.
        print(f"courseflow db provision: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    for service in SERVICES:
        password = "password set" if service in passwords else "password unchanged"
        print(f"{roles.role_for(service)}: owns schema {service} in {database} ({password})")
    return 0


def _db_prune(admin_url: str | None, older_than: int | None) -> int:
    from datetime import UTC, datetime  # noqa: PLC0415

    import asyncpg  # noqa: PLC0415

    from services.ops.prune import Retention, prune  # noqa: PLC0415
    from services.runtime.settings import ServiceSettings  # noqa: PLC0415

    settings = ServiceSettings()
    retention = (
        Retention.uniform(older_than)
        if older_than is not None
        else Retention(
            settings.retention_inbox_days,
            settings.retention_outbox_days,
            settings.retention_deliveries_days,
        )
    )
    try:
        asyncio.run(
            prune(
                admin_url or settings.database_url, SERVICES, retention,
                batch_size=settings.prune_batch_size, now=datetime.now(UTC),
                report=lambda line: print(line, flush=True),
            )
        )  # fmt: skip
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        print(f"courseflow db prune: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


def _run(service: str) -> int:
    from services.runtime.launcher import run_service  # noqa: PLC0415

    return run_service(service)


if __name__ == "__main__":
    sys.exit(main())
