"""Standard Webhooks (v1, symmetric): how we sign a webhook and how a receiver verifies it.

The signed content is `{webhook-id}.{webhook-timestamp}.{body}`; `webhook-signature` is
`v1,<base64 HMAC-SHA256>` under the key that the secret `whsec_<base64>` encodes. The id is
the notice id, the same on every attempt, so the receiver de-duplicates on it; the timestamp
is the attempt's (seconds since the epoch), so a receiver rejects a replayed old request.
Receivers may use this module (stdlib only) or any Standard Webhooks library.
"""

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"  # the same value as webhook-id, for older receivers
DEFAULT_TOLERANCE_S = 300.0
_KEY_BYTES = range(24, 65)  # the scheme's bounds: 192 to 512 bits
_VERSION = "v1"


class WebhookVerificationError(ValueError):
    """The request is not a fresh, unchanged webhook signed with the receiver's secret."""


def signing_key(secret: str) -> bytes:
    """The HMAC key a `whsec_<base64>` secret encodes; errors never repeat the secret."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"the secret must start with {SECRET_PREFIX} followed by base64")
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error:
        raise ValueError(f"the secret after {SECRET_PREFIX} is not base64") from None
    if len(key) not in _KEY_BYTES:
        raise ValueError("the secret must encode 24 to 64 bytes (32 random bytes recommended)")
    return key


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    if "." in message_id:
        raise ValueError("a webhook-id must not contain a full stop (it delimits the content)")
    content = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(signing_key(secret), content, hashlib.sha256).digest()
    return f"{_VERSION},{base64.b64encode(digest).decode()}"


def signed_headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        ID_HEADER: message_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, message_id, timestamp, body),
        IDEMPOTENCY_HEADER: message_id,
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float | None = None,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> str:
    """The webhook-id of a request signed with `secret` within `tolerance_s` of `now`
    (either way); raises WebhookVerificationError otherwise. Header names in any case."""
    lower = {name.lower(): value for name, value in headers.items()}
    message_id, stamp, signatures = (lower.get(h) for h in (ID_HEADER, TIMESTAMP_HEADER,
                                                            SIGNATURE_HEADER))  # fmt: skip
    if not (message_id and stamp and signatures):
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or signature")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise WebhookVerificationError("webhook-timestamp is not whole seconds") from None
    current = time.time() if now is None else now
    if timestamp < current - tolerance_s:
        raise WebhookVerificationError("webhook timestamp too old")
    if timestamp > current + tolerance_s:
        raise WebhookVerificationError("webhook timestamp too new")
    if "." in message_id:
        raise WebhookVerificationError("webhook-id contains a full stop")
    expected = sign(secret, message_id, timestamp, body).encode()
    # Several signatures, space-separated, let a sender rotate its secret without downtime.
    if not any(hmac.compare_digest(expected, given.encode()) for given in signatures.split()):
        raise WebhookVerificationError("no matching signature")
    return message_id
