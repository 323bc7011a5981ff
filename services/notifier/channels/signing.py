"""Webhook bodies are signed so receivers can check they come from us, unchanged."""

import hashlib
import hmac

SIGNATURE_HEADER = "X-Courseflow-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def signature(secret: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signature_matches(secret: str, body: bytes, header: str) -> bool:
    return hmac.compare_digest(signature(secret, body), header)
