"""A local webhook receiver: a tiny HTTP/1.1 server on asyncio that behaves like a careful
recipient. It verifies the Standard Webhooks signature and timestamp, keeps each webhook-id's
body once, and can be told to answer 500 a number of times (or always) before it accepts, or
to run a hook (a fault the test injects) while the sender waits for the answer."""

import asyncio
import base64
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from services.notifier.channels.signing import (
    IDEMPOTENCY_HEADER,
    WebhookVerificationError,
    verify,
)

SECRET = "whsec_" + base64.b64encode(b"courseflow-test-webhook-secret!!").decode()


@dataclass
class WebhookReceiver:
    secret: str = SECRET
    fail_next: int = 0
    always_fail: bool = False
    requests: list[str] = field(default_factory=list)  # webhook-id of every request
    arrivals: list[float] = field(default_factory=list)  # wall-clock time of every request
    accepted: dict[str, dict[str, Any]] = field(default_factory=dict)
    bad_signatures: int = 0
    on_request: Callable[[str], Awaitable[None]] | None = None
    _server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/notices"

    async def start(self) -> "WebhookReceiver":
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def bodies(self) -> list[dict[str, Any]]:
        return list(self.accepted.values())

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                headers = _headers(head)
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                status = await self._answer(headers, body)
                writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n".encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _answer(self, headers: dict[str, str], body: bytes) -> int:
        key = headers.get("webhook-id", "")
        self.requests.append(key)
        self.arrivals.append(time.time())
        try:
            verify(self.secret, headers, body)
        except WebhookVerificationError:
            self.bad_signatures += 1
            return 401
        if headers.get(IDEMPOTENCY_HEADER.lower()) != key:
            return 400
        if self.on_request is not None:
            await self.on_request(key)
        if self.always_fail:
            return 500
        if self.fail_next > 0:
            self.fail_next -= 1
            return 500
        self.accepted.setdefault(key, json.loads(body))
        return 200


def _headers(head: bytes) -> dict[str, str]:
    lines = head.decode("latin-1").split("\r\n")[1:]
    pairs = (line.split(":", 1) for line in lines if ":" in line)
    return {name.strip().lower(): value.strip() for name, value in pairs}
