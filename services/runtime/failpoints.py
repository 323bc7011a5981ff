"""Named crash points for the fault tests: COURSEFLOW_FAILPOINTS=after_db_commit,... kills the
process with exit code 86 at that point, exactly as a kill -9 there would (no clean-up runs)."""

import os

EXIT_CODE = 86


def hit(name: str) -> None:
    if name in os.environ.get("COURSEFLOW_FAILPOINTS", "").split(","):
        os._exit(EXIT_CODE)
