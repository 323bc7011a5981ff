"""The `courseflow` command for people: the local stack, the services, the contract artefacts."""

import argparse
import sys
from collections.abc import Sequence

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

    schemas = commands.add_parser("schemas", help="the wire contract's generated documents")
    schemas.add_argument("action", choices=("generate",))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "stack":
            return _stack(args.action)
        if args.command == "run":
            return _run(args.service)
        if args.command == "demo":
            from services.demo.runner import run_demo  # noqa: PLC0415

            return run_demo(traffic_only=args.traffic_only)
        if args.command == "schemas":
            from schemas.generate import write  # noqa: PLC0415

            for path in write():
                print(f"wrote {path}")
    except KeyboardInterrupt:
        return 130
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


def _run(service: str) -> int:
    from services.runtime.launcher import run_service  # noqa: PLC0415

    return run_service(service)


if __name__ == "__main__":
    sys.exit(main())
