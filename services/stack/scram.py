"""A role's password as PostgreSQL's SCRAM-SHA-256 verifier, made here: the password stays here.

`ALTER ROLE ... PASSWORD 'secret'` carries the clear text to the server, where it can land
in the server log (statement logging, or the statement quoted with an error) and in
`pg_stat_statements`. Given a string already in the form of a verifier,
`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, PostgreSQL stores it as it is
(a malformed one it would take for a clear-text password, hence the tests that re-derive
what is stored), so the statement only ever holds what `pg_authid.rolpassword` holds anyway.

The keys follow RFC 5802 and RFC 7677 as PostgreSQL computes them (src/common/scram-common.c,
4096 iterations and a 16-byte random salt by default): SaltedPassword =
PBKDF2-HMAC-SHA-256(password, salt, iterations), ClientKey = HMAC(SaltedPassword,
"Client Key"), StoredKey = SHA-256(ClientKey), ServerKey = HMAC(SaltedPassword,
"Server Key"), all base64. The password is first prepared as PostgreSQL's `pg_saslprep`
does (RFC 4013 SASLprep, which clients such as libpq and asyncpg apply too): ASCII is left
as it is; otherwise non-ASCII spaces become spaces, characters "mapped to nothing" go,
then NFKC; and a password SASLprep refuses (prohibited or unassigned characters, bad
bidirectional text, nothing left) is hashed as its raw bytes instead. So a role gets the
verifier `ALTER ROLE` with the clear text would have given it.
"""

import base64
import hashlib
import hmac
import secrets
import stringprep
import unicodedata

ITERATIONS = 4096
SALT_BYTES = 16

_PROHIBITED = (
    stringprep.in_table_a1,  # unassigned in Unicode 3.2: PostgreSQL refuses them too
    stringprep.in_table_c12,
    stringprep.in_table_c21_c22,
    stringprep.in_table_c3,
    stringprep.in_table_c4,
    stringprep.in_table_c5,
    stringprep.in_table_c6,
    stringprep.in_table_c7,
    stringprep.in_table_c8,
    stringprep.in_table_c9,
)


def scram_verifier(password: str, salt: bytes, iterations: int = ITERATIONS) -> str:
    """PostgreSQL's SCRAM-SHA-256 verifier of this password with this salt (pure)."""
    salted = hashlib.pbkdf2_hmac("sha256", saslprep(password), salt, iterations)
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")
    return f"SCRAM-SHA-256${iterations}:{_b64(salt)}${_b64(stored_key)}:{_b64(server_key)}"


def new_scram_verifier(password: str) -> str:
    """The verifier to store for a password: a fresh random salt, PostgreSQL's iterations."""
    return scram_verifier(password, secrets.token_bytes(SALT_BYTES))


def saslprep(password: str) -> bytes:
    """The bytes PostgreSQL hashes for this password (its `pg_saslprep`, with its fallback)."""
    raw = password.encode("utf-8", "surrogateescape")  # undecodable bytes stay themselves
    if password.isascii() or not _valid_utf8(raw):
        return raw
    # As PostgreSQL does, to the letter: spaces first (U+200B, in both tables, is a space),
    # and the checks look at the mapped text before NFKC, not at its result.
    mapped = "".join(
        " " if stringprep.in_table_c12(c) else "" if stringprep.in_table_b1(c) else c
        for c in password
    )
    if not mapped or any(prohibited(c) for c in mapped for prohibited in _PROHIBITED):
        return raw
    if any(stringprep.in_table_d1(c) for c in mapped) and (
        any(stringprep.in_table_d2(c) for c in mapped)
        or not stringprep.in_table_d1(mapped[0])
        or not stringprep.in_table_d1(mapped[-1])
    ):
        return raw
    prepared = unicodedata.normalize("NFKC", mapped)
    return prepared.encode()


def _valid_utf8(raw: bytes) -> bool:
    try:
        raw.decode()
    except UnicodeDecodeError:
        return False
    return True


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
