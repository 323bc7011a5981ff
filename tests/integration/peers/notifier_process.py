"""`courseflow run notifier` under a schema and consumer group of the test's own:
`python -m tests.integration.peers.notifier_process NAME`. Rows that other tests left in the
shared `notifier` schema can then never be what a crash test's process delivers first."""

import asyncio
import sys

from services.notifier.app import build_runtime
from services.notifier.settings import NotifierSettings

if __name__ == "__main__":
    runtime, _ = build_runtime(NotifierSettings(http_port=0), name=sys.argv[1])
    asyncio.run(runtime.app().run())
