"""A service adds its own HTTP routes beside /health and /metrics: a whole path, or every
path below a prefix; nothing else changes in what the runtime serves."""

from typing import Any

import httpx
from faststream.asgi import AsgiResponse

from services.runtime.service import ServiceRuntime
from services.runtime.settings import ServiceSettings


def answering(body: bytes) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await AsgiResponse(body + scope["path"].encode(), 200)(scope, receive, send)

    return app


async def get(runtime: ServiceRuntime, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=runtime.app())  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        return await client.get(path)


async def test_a_prefix_route_serves_every_path_below_it_and_a_path_route_only_itself() -> None:
    runtime = ServiceRuntime("routes", ServiceSettings(http_port=1))
    runtime.serve("/calendars/", answering(b"below:"))
    runtime.serve("/exact", answering(b"exact:"))
    assert (await get(runtime, "/calendars/abc.ics")).content == b"below:/calendars/abc.ics"
    assert (await get(runtime, "/exact")).content == b"exact:/exact"
    assert (await get(runtime, "/exact/more")).status_code == 404
    assert (await get(runtime, "/calendars")).status_code == 404
    assert (await get(runtime, "/health")).status_code == 503  # not started: not ready
