"""The `courseflow` command for people: the local stack, the services, the contract artefacts."""

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence

SERVICES = ("eligibility", "planner", "notifier")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="courseflow", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    stack = commands.add_parser("stack", help="local Apache Kafka and PostgreSQL")
    stack.add_argument("action", choices=("up", "down", "status"))

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

    dead = commands.add_parser("dead-letters", help="inspect and replay dead letters")
    dead.add_argument("action", choices=("list", "replay"))
    dead.add_argument(
        "positions",
        nargs="*",
        metavar="PARTITION:OFFSET",
        help="with replay: the dead letters to re-inject (see list)",
    )
    dead.add_argument("--all", action="store_true", help="with replay: every dead letter")

    schemas = commands.add_parser("schemas", help="the wire contract's generated documents")
    schemas.add_argument("action", choices=("generate",))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    commands: dict[str, Callable[[argparse.Namespace], int]] = {
        "stack": lambda a: _stack(a.action),
        "run": lambda a: _run(a.service),
        "patient": lambda a: _patient(a.patient_id),
        "dead-letters": lambda a: _dead_letters(a.action, a.positions, replay_all=a.all),
        "demo": lambda a: _demo(traffic_only=a.traffic_only),
        "schemas": lambda _a: _schemas(),
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


def _stack(action: str) -> int:
    from services.stack import stack  # noqa: PLC0415

    try:
        lines = {"up": stack.up, "down": stack.down, "status": stack.status}[action]()
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


def _dead_letters(action: str, positions: list[str], *, replay_all: bool) -> int:
    from services.ops.deadletters import read_all, replay  # noqa: PLC0415
    from services.runtime.settings import ServiceSettings  # noqa: PLC0415

    settings = ServiceSettings()
    bootstrap, topic = settings.kafka_bootstrap_servers, settings.topic_dead_letters
    letters = asyncio.run(read_all(bootstrap, topic))
    if action == "list":
        for letter in letters:
            print(letter.describe())
        print(f"{len(letters)} dead letters in {topic}")
        return 0
    chosen = letters if replay_all else [d for d in letters if d.position in set(positions)]
    if not chosen:
        print("nothing to replay: name PARTITION:OFFSET positions from `list`, or --all")
        return 1
    print(f"replayed {asyncio.run(replay(bootstrap, chosen, topic))} dead letters")
    return 0


def _run(service: str) -> int:
    from services.runtime.launcher import run_service  # noqa: PLC0415

    return run_service(service)


if __name__ == "__main__":
    sys.exit(main())
