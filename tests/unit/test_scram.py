"""The SCRAM-SHA-256 verifier `db provision` sends instead of a password: the very string
PostgreSQL itself stores, and one a server accepts the RFC 7677 client's proof against."""

import base64
import hashlib
import hmac

import pytest

from services.stack import roles
from services.stack.scram import ITERATIONS, SALT_BYTES, new_scram_verifier, scram_verifier

# What PostgreSQL 15.18 stored (pg_authid.rolpassword) after `ALTER ROLE ... PASSWORD '<password>'`
# with password_encryption = 'scram-sha-256': the same salt must give the same string.
POSTGRES_MADE = [
    (  # ASCII: hashed as it is
        "pencil",
        (
            "SCRAM-SHA-256$4096:RjTL6DBo8KeeWrnZ8Yb66Q==$"
            "x9U/7VnZn/6Rxtfv0BR6xO5l+dfuXej3vfO6ASCN/M4=:"
            "9W4b8dhX/D4pOosXtXhIt6/jG0tIRZqtWuF4sIX7Mow="
        ),
    ),
    (  # SASLprep: fullwidth p to p (NFKC), soft hyphen dropped, em space to space
        "\uff50\u00e4ss\u00adw\u00f6rd\u2003x",
        (
            "SCRAM-SHA-256$4096:/8zPxRqBliK/mrOTZxQRQw==$"
            "n71NfWl6eW7GYdV89cw/ZXNz3PUjSdbyparyfzg3iZU=:"
            "1uv6St8jzbM2ky7Is61R1Kg8zh2hcSeCJ9aDtgj43lk="
        ),
    ),
    (  # zero width space: a non-ASCII space before being "mapped to nothing", so a space
        "a\u200b\u00e9",
        (
            "SCRAM-SHA-256$4096:Rbkty/Ma224Tm/81l+urXw==$"
            "2xy1y95BcmFDoD6WnktPsJoGigpzkH0WKDlCfWqbjds=:"
            "kCRl+oF6uoZW/kBEJ+5+0m7701cENGOKtEo4cPgQUgQ="
        ),
    ),
    (  # a control character: SASLprep refuses, the raw bytes (soft hyphen too) are hashed
        "pass\u0007w\u00ad\u00f6rd",
        (
            "SCRAM-SHA-256$4096:bEVlRHylSJlzLX09CXR8uQ==$"
            "0jt+iXRrxra0Wq8UakJ42wcNOaI3FaBKuV0BXK2DF0U=:"
            "xFP8lN/H8gb54hYvnCsHZuOXTQuXncgsFVpf2EwVl0M="
        ),
    ),
    (  # a deprecated combining mark (C.8), which NFKC would have replaced: the check sees
        # the text before NFKC, so refused, raw bytes
        "e\u0340\u00e9",
        (
            "SCRAM-SHA-256$4096:WxYjDxMrWq2DL7GrkWHCUw==$"
            "UXj5jYR7KANKgjOKrxxt6IV7OV3v+jU4cUQGPqKX/ts=:"
            "a0rC0WrXdxwKbwr9Ls/GFE3xgwS3emZ4nr0aq5rlI34="
        ),
    ),
    (  # an emoji, unassigned in Unicode 3.2 (SASLprep's version): refused, raw bytes
        "\U0001f600\u00ad",
        (
            "SCRAM-SHA-256$4096:Jn9CaJblTKDKczjfsxp0Ig==$"
            "Qhe21UT07rnI+zO5P0V9VHbuBbnjfFA4HU1xeam70EQ=:"
            "J1tyNWxwAhdIR0FHHs5txxezLUe5CiC6vDm+wVaGITg="
        ),
    ),
    (  # left-to-right text inside right-to-left text: refused, raw bytes
        "\u05d0a\u00ad\u05d1",
        (
            "SCRAM-SHA-256$4096:vi/0w76gY269cf6Wyf6v9A==$"
            "OBlohu1YC2mx1/BabZc0X6CvoitwcCZrQKSV4ckgIfA=:"
            "jHlvr9QPa7Gb2vTbHf5bObp+xrSf1PLX1KF6gfzFpK4="
        ),
    ),
    (  # right-to-left text starting with a digit: refused, raw bytes
        "1\u00ad\u05d0",
        (
            "SCRAM-SHA-256$4096:2FsWmfUvqZWnZbbVXF4iNw==$"
            "9Wy/mXea+qVMcatgE0I0Q7E1B6Fy6bcvhtjbGm+pqDI=:"
            "jIyZi77uPPoMV1DJA2MHWoHd0yGIe33Z0i7PWnCnnXA="
        ),
    ),
    (  # right-to-left text ending in a digit: refused, raw bytes
        "\u05d0\u00ad1",
        (
            "SCRAM-SHA-256$4096:rQ0zYnWJ/D2X7UYEvWbuZg==$"
            "xQJU86KPhj0Ex4v+pDOaeauv35tYr3JbDT6RMMriFm8=:"
            "1+6Gnix5W/nOp58JW1Mt5urdre97QZjJQPZpnv+2D6c="
        ),
    ),
    (  # right-to-left text alone: prepared (soft hyphen dropped)
        "\u05d0\u00ad\u05d1",
        (
            "SCRAM-SHA-256$4096:Sw/IURRl0cD9W349QVmaaA==$"
            "NiQPlWp13pvEWWPKainCT4nLh40tMR9bH2Vjwrhv628=:"
            "NPd63nGJbMusNX+0Q1WWtFXG8vjFh/9ZqB10dLkw+po="
        ),
    ),
    (  # nothing left once mapped: refused, raw bytes
        "\u00ad",
        (
            "SCRAM-SHA-256$4096:AptOPiozO3qMbk1jbsxuGA==$"
            "zpm60YWM8zjbY/4a2zEOwkIGrlnVDe+fL9ppP27NdLk=:"
            "PWWCR/2vj8StGmEsS0aZm+K1CsJJyJ9JDsgK/v3Dp1w="
        ),
    ),
]


def salt_and_iterations(verifier: str) -> tuple[bytes, int]:
    iterations, _, salt = verifier.split("$")[1].partition(":")
    return base64.b64decode(salt), int(iterations)


@pytest.mark.parametrize(("password", "stored"), POSTGRES_MADE)
def test_the_verifier_is_the_one_postgresql_stores(password: str, stored: str) -> None:
    salt, iterations = salt_and_iterations(stored)
    assert scram_verifier(password, salt, iterations) == stored
    assert scram_verifier(f"{password}x", salt, iterations) != stored


# RFC 7677 section 3: user "user", password "pencil", and the whole exchange.
RFC_SALT = base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ==")
RFC_AUTH_MESSAGE = (
    b"n=user,r=rOprNGfwEbeRWgbNEkqO,"
    b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,"
    b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
)
RFC_CLIENT_PROOF = base64.b64decode("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
RFC_SERVER_SIGNATURE = base64.b64decode("6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")


def test_a_server_holding_the_verifier_completes_the_rfc_7677_exchange() -> None:
    """As the server does: ClientKey = proof XOR HMAC(StoredKey, AuthMessage) must hash to
    StoredKey, and HMAC(ServerKey, AuthMessage) is the signature the client expects."""
    verifier = scram_verifier("pencil", RFC_SALT, 4096)
    stored_key, server_key = (base64.b64decode(k) for k in verifier.split("$")[2].split(":"))
    client_signature = hmac.digest(stored_key, RFC_AUTH_MESSAGE, "sha256")
    client_key = bytes(p ^ s for p, s in zip(RFC_CLIENT_PROOF, client_signature, strict=True))
    assert hashlib.sha256(client_key).digest() == stored_key
    assert hmac.digest(server_key, RFC_AUTH_MESSAGE, "sha256") == RFC_SERVER_SIGNATURE
    assert verifier.startswith("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$")


def test_a_new_verifier_has_a_fresh_16_byte_salt_and_4096_iterations() -> None:
    first, second = new_scram_verifier("pencil"), new_scram_verifier("pencil")
    assert first != second
    for verifier in (first, second):
        salt, iterations = salt_and_iterations(verifier)
        assert (len(salt), iterations) == (SALT_BYTES, ITERATIONS) == (16, 4096)
        assert scram_verifier("pencil", salt, iterations) == verifier
        assert "pencil" not in verifier


def test_provisioning_sends_the_verifier_and_never_the_password() -> None:
    statement = roles._set_password("courseflow_planner", "pw'planner-s3cret")
    assert "s3cret" not in statement
    verifier = statement.removeprefix('ALTER ROLE "courseflow_planner" PASSWORD \'')[:-1]
    salt, iterations = salt_and_iterations(verifier)
    assert scram_verifier("pw'planner-s3cret", salt, iterations) == verifier
    # As PostgreSQL does with `PASSWORD ''`: an empty password is none at all.
    assert roles._set_password("r", "") == 'ALTER ROLE "r" PASSWORD NULL'
