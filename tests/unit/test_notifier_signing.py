"""Standard Webhooks signatures: the published example, and what a receiver must reject."""

import base64

import pytest

from services.notifier.channels.signing import (
    IDEMPOTENCY_HEADER,
    WebhookVerificationError,
    sign,
    signed_headers,
    signing_key,
    verify,
)

# The symmetric (v1) example published with the Standard Webhooks reference libraries.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
BODY = b'{"kind":"course_resumed","notice_id":"n-1"}'
NOW = 1_760_000_000


def spec_headers(**changes: str) -> dict[str, str]:
    return {
        "webhook-id": SPEC_ID,
        "webhook-timestamp": str(SPEC_TIMESTAMP),
        "webhook-signature": SPEC_SIGNATURE,
        **changes,
    }


def test_signature_is_the_published_example() -> None:
    assert sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE


def test_the_published_example_verifies_at_its_own_time() -> None:
    assert verify(SPEC_SECRET, spec_headers(), SPEC_BODY, now=SPEC_TIMESTAMP) == SPEC_ID


def test_what_we_send_verifies_and_keeps_the_idempotency_key() -> None:
    headers = signed_headers(SECRET, "n-1", NOW, BODY)
    assert headers["webhook-id"] == headers[IDEMPOTENCY_HEADER] == "n-1"
    assert headers["webhook-timestamp"] == str(NOW)
    assert headers["webhook-signature"].startswith("v1,")
    upper = {name.upper(): value for name, value in headers.items()}  # header names: any case
    assert verify(SECRET, upper, BODY, now=NOW + 299) == "n-1"


@pytest.mark.parametrize(
    ("body", "headers", "reason"),
    [
        (SPEC_BODY + b" ", spec_headers(), "no matching signature"),
        (SPEC_BODY, spec_headers(**{"webhook-id": "msg_other"}), "no matching signature"),
        (SPEC_BODY, spec_headers(**{"webhook-signature": "v1,AAAA"}), "no matching signature"),
        (SPEC_BODY, spec_headers(**{"webhook-signature": "v1a,g0hM9SsE"}), "no matching"),
        (SPEC_BODY, spec_headers(**{"webhook-signature": "garbage"}), "no matching signature"),
        (SPEC_BODY, spec_headers(**{"webhook-timestamp": "soon"}), "timestamp is not"),
        (SPEC_BODY, {"webhook-id": SPEC_ID, "webhook-timestamp": "1"}, "missing"),
    ],
)  # fmt: skip
def test_tampered_or_incomplete_requests_are_rejected(
    body: bytes, headers: dict[str, str], reason: str
) -> None:
    with pytest.raises(WebhookVerificationError, match=reason):
        verify(SPEC_SECRET, headers, body, now=SPEC_TIMESTAMP)


def test_a_signature_made_with_another_secret_is_rejected() -> None:
    other = "whsec_" + base64.b64encode(b"x" * 32).decode()
    with pytest.raises(WebhookVerificationError, match="no matching signature"):
        verify(other, spec_headers(), SPEC_BODY, now=SPEC_TIMESTAMP)


def test_one_valid_signature_among_several_is_enough_for_key_rotation() -> None:
    rotated = f"v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= {SPEC_SIGNATURE}"
    headers = spec_headers(**{"webhook-signature": rotated})
    assert verify(SPEC_SECRET, headers, SPEC_BODY, now=SPEC_TIMESTAMP) == SPEC_ID


@pytest.mark.parametrize("skew", [-301, 301, -86_400, 86_400])
def test_stale_and_future_timestamps_are_rejected(skew: int) -> None:
    headers = signed_headers(SECRET, "n-1", NOW + skew, BODY)
    with pytest.raises(WebhookVerificationError, match=r"timestamp too (old|new)"):
        verify(SECRET, headers, BODY, now=NOW)


@pytest.mark.parametrize("skew", [-300, 300])
def test_timestamps_at_the_tolerance_are_accepted(skew: int) -> None:
    headers = signed_headers(SECRET, "n-1", NOW + skew, BODY)
    assert verify(SECRET, headers, BODY, now=NOW) == "n-1"


def test_tolerance_can_be_narrowed() -> None:
    headers = signed_headers(SECRET, "n-1", NOW - 61, BODY)
    with pytest.raises(WebhookVerificationError, match="timestamp too old"):
        verify(SECRET, headers, BODY, now=NOW, tolerance_s=60)


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "must start with whsec_"),
        ("whsec_not base64!", "not base64"),
        ("whsec_" + base64.b64encode(b"k" * 16).decode(), "24 to 64 bytes"),
        ("whsec_" + base64.b64encode(b"k" * 65).decode(), "24 to 64 bytes"),
    ],
)
def test_secrets_not_in_the_whsec_format_are_refused_without_echoing_them(
    secret: str, reason: str
) -> None:
    with pytest.raises(ValueError, match=reason) as raised:
        signing_key(secret)
    assert secret.removeprefix("whsec_") not in str(raised.value)


def test_a_message_id_with_a_full_stop_cannot_be_signed() -> None:
    with pytest.raises(ValueError, match="full stop"):
        sign(SECRET, "a.b", NOW, BODY)
