"""Feed URLs: an unguessable secret per feed, which the planner stores only as a hash.

A feed's token is HMAC-SHA256 of a nonce under the operators' URL key
(`PLANNER_CALENDAR_URL_KEY`), in base64url. The nonce is made once per feed with
`secrets.token_urlsafe`; the key never reaches the database. The table keeps the nonce and
the token's SHA-256: a request finds its feed by the hash of the token it presents,
`courseflow calendar url` prints the same URL again from the nonce and the key, and whoever
reads the table (a backup, a replica, an operator's query) can make no URL from it.
"""

import base64
import hashlib
import hmac
import re
import secrets

PATH_PREFIX = "/calendars/"
SUFFIX = ".ics"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # 32 bytes of HMAC-SHA256, base64url, no padding
MIN_KEY_LENGTH = 32


def new_nonce() -> str:
    return secrets.token_urlsafe(32)


def feed_token(key: str, nonce: str) -> str:
    digest = hmac.new(key.encode(), nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def feed_path(token: str) -> str:
    return f"{PATH_PREFIX}{token}{SUFFIX}"


def token_in(path: str) -> str | None:
    """The token of a feed path, or None for any other path (nothing is looked up then)."""
    token = path.removeprefix(PATH_PREFIX).removesuffix(SUFFIX)
    if path != feed_path(token) or not _TOKEN.fullmatch(token):
        return None
    return token
