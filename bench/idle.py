"""CPU of the three services while nothing happens: what polling costs.

    .venv/bin/python -m bench.idle --seconds 60

On the running local stack: the services as processes (as `bench.pipeline` starts them:
own topics, database and consumer groups), healthy, left alone for `--settle` seconds,
then their CPU (utime + stime from /proc) over `--seconds`, per service and for the
broker. Issue 13's target: the three services together at most 2 % of
one core. Not a test: it prints figures.
"""

import argparse
import asyncio
import os
import signal
import sys
import time

from bench.observe import CpuMeter
from bench.pipeline import KAFKA_MARKER, Run, remove_logs, start_services


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.idle", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--seconds", type=float, default=60.0, help="how long CPU is measured")
    p.add_argument("--settle", type=float, default=10.0, help="idle time before measuring")
    p.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                   help="extra environment for the services")  # fmt: skip
    p.add_argument("--log-level", default="WARNING", help="COURSEFLOW_LOG_LEVEL of the services")
    p.add_argument("--partitions", type=int, default=6)
    p.add_argument("--bootstrap", default="127.0.0.1:59092")
    p.add_argument("--database-url", default="postgresql://courseflow@127.0.0.1:55432/courseflow",
                   help="the server to create the run's database on")  # fmt: skip
    p.add_argument(
        "--cli",
        action="store_true",
        help="run the services exactly as `courseflow run`, in the shared groups",
    )
    return p


async def _measure(run: Run) -> int:
    args = run.args
    run_dir = await start_services(run)
    assert run.group is not None
    print(f"idle: settling {args.settle:.0f} s, then measuring {args.seconds:.0f} s …", flush=True)
    await asyncio.sleep(args.settle)
    cpu = CpuMeter(run.group.pids(), kafka_marker=KAFKA_MARKER)
    cpu.start()
    started = time.monotonic()
    await asyncio.sleep(args.seconds)
    run.group.check_alive()
    used, _others, _busy = cpu.stop()
    span = time.monotonic() - started
    services = {name: used[name] for name in run.group.pids()}
    for name, seconds in [*services.items(), ("(three services)", sum(services.values()))]:
        print(f"  {name:<24} {seconds:6.2f} s = {seconds / span:6.2%} of one core")
    # The broker is this stack's (found by its path); "postgres" would count every cluster
    # on the machine, so it is left out.
    broker = used["kafka broker"]
    print(f"  {'kafka broker':<24} {broker:6.2f} s = {broker / span:6.2%} of one core")
    remove_logs(run_dir)
    return 0


async def _guarded(run: Run) -> int:
    try:
        return await _measure(run)
    finally:
        await run.cleanup()


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    print(f"bench idle (load {os.getloadavg()[0]:.2f})", flush=True)
    try:
        return asyncio.run(_guarded(Run(args)))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
