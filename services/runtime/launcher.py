"""`courseflow run <service>`: build the service's FastStream app and run it until a signal."""

import asyncio
import importlib

from faststream.asgi import AsgiFastStream

from services.runtime.settings import ServiceSettings


def run_service(name: str) -> int:
    app = importlib.import_module(f"services.{name}.app").build_app()
    if isinstance(app, AsgiFastStream):
        settings = service_settings(name)
        options: dict[str, str | int] = {
            "host": settings.http_host, "port": settings.http_port, "access_log": "false",
        }  # fmt: skip
        asyncio.run(app.run(run_extra_options=dict(options)))
    else:
        asyncio.run(app.run())
    return 0


def service_settings(name: str) -> ServiceSettings:
    module = importlib.import_module(f"services.{name}.settings")
    settings_class: type[ServiceSettings] = getattr(module, f"{name.capitalize()}Settings")
    return settings_class()
