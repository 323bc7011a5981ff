"""`courseflow run <service>`: build the service's FastStream app and run it until a signal."""

import asyncio
import importlib

import structlog
import uvloop
from faststream.asgi import AsgiFastStream

from services.runtime.service import ServiceApp
from services.runtime.settings import ServiceSettings


def run_service(name: str) -> int:
    app = importlib.import_module(f"services.{name}.app").build_app()
    serve(app, service_settings(name), service=name)
    return 0


def serve(app: ServiceApp, settings: ServiceSettings, *, service: str) -> None:
    """Run the app on uvloop until a signal. uvloop does the event loop's socket and timer
    work in C: less CPU per Kafka request and database round trip than asyncio's own loop."""
    uvloop.run(_run(app, settings, service))


async def _run(app: ServiceApp, settings: ServiceSettings, service: str) -> None:
    # Which loop really runs, for operators and the test that checks it.
    loop = type(asyncio.get_running_loop())
    log = structlog.get_logger().bind(service=service)
    log.info("event loop", event_loop=f"{loop.__module__}.{loop.__qualname__}")
    if isinstance(app, AsgiFastStream):
        options: dict[str, str | int] = {
            "host": settings.http_host, "port": settings.http_port, "access_log": "false",
        }  # fmt: skip
        await app.run(run_extra_options=dict(options))
    else:
        await app.run()


def service_settings(name: str) -> ServiceSettings:
    module = importlib.import_module(f"services.{name}.settings")
    settings_class: type[ServiceSettings] = getattr(module, f"{name.capitalize()}Settings")
    return settings_class()
