"""`python -m bench.service <service> <name>`: `courseflow run <service>` under another name.

The name is the service's consumer group and Postgres schema (see each `build_runtime`), and
no setting changes it. Under its own name a benchmarked service does not join the consumer
groups `eligibility`, `planner`, `notifier` of whatever else runs on the broker (a demo, the
end-to-end tests): they would rebalance each other mid-run. Otherwise this is exactly
`services.runtime.launcher.run_service`: same settings from the environment, same app, same
event loop.
"""

import importlib
import sys

from services.runtime.launcher import serve, service_settings


def main(service: str, name: str) -> int:
    settings = service_settings(service)
    runtime, _handler = importlib.import_module(f"services.{service}.app").build_runtime(
        settings, name=name
    )
    serve(runtime.app(), settings, service=name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
