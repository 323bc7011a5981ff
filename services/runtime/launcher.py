"""`courseflow run <service>`: build the service's FastStream app and run it until a signal."""

import asyncio
import importlib


def run_service(name: str) -> int:
    module = importlib.import_module(f"services.{name}.app")
    app = module.build_app()
    asyncio.run(app.run())
    return 0
