"""Which kinds of notice go to which recipients on which channels (one clinic's file).

Events do not name the clinic, so each clinic's notifier runs with its own routing file.
With no file every kind goes to the log channel, so a fresh install shows every notice.
Safe by default: webhooks use https and e-mail TLS; plain http or SMTP is allowed only for a
peer on this host (127.0.0.1, ::1, localhost) and only where the file says so explicitly.
"""

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    ValidationError,
    model_validator,
)

from schemas.types import TherapistId
from services.notifier.channels.signing import signing_key
from services.notifier.kinds import Kind

EVERY_KIND = "*"
RecipientName = Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
LOCAL_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def _whsec(secret: str) -> str:
    signing_key(secret)  # a ValueError says what is wrong without repeating the secret
    return secret


def _is_local(host: str | None) -> bool:
    return (host or "").strip("[]").lower() in LOCAL_HOSTS


def _local_only(host: str | None, what: str, *, allowed: bool) -> None:
    if allowed and not _is_local(host):
        raise ValueError(f"{what} is allowed only for 127.0.0.1, ::1 or localhost")


class RoutingConfigError(ValueError):
    """A routing file that cannot be used; the message says where and why."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class WebhookRecipient(_Strict):
    """`secret` is a Standard Webhooks `whsec_<base64>` secret, one per recipient."""

    channel: Literal["webhook"]
    url: HttpUrl
    secret: Annotated[str, AfterValidator(_whsec)]
    allow_insecure_local: bool = False

    @model_validator(mode="after")
    def _https_unless_local(self) -> "WebhookRecipient":
        _local_only(self.url.host, "allow_insecure_local", allowed=self.allow_insecure_local)
        if self.url.scheme != "https" and not self.allow_insecure_local:
            raise ValueError("webhook URLs must be https (allow_insecure_local: a local peer)")
        return self


class EmailRecipient(_Strict):
    channel: Literal["email"]
    address: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")]


class LogRecipient(_Strict):
    channel: Literal["log"]


Recipient = Annotated[
    WebhookRecipient | EmailRecipient | LogRecipient, Field(discriminator="channel")
]


class SmtpServer(_Strict):
    """`tls`: `starttls` (required, port 587), `implicit` (TLS from the start, port 465) or
    `none`, which only a relay on this host may be given."""

    host: str
    port: Annotated[int, Field(ge=1, le=65535)] = 587
    sender: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")]
    username: str | None = None
    password: str | None = None
    tls: Literal["starttls", "implicit", "none"] = "starttls"

    @model_validator(mode="after")
    def _tls_unless_local(self) -> "SmtpServer":
        _local_only(self.host, "tls: none (plain SMTP)", allowed=self.tls == "none")
        return self


class Route(_Strict):
    kinds: Annotated[tuple[Kind | Literal["*"], ...], Field(min_length=1)]
    recipients: Annotated[tuple[RecipientName, ...], Field(min_length=1)]


class RoutingConfig(_Strict):
    """`therapists` maps a therapist id to the recipient that hears of that therapist's
    changed days (`therapist_schedule_changed`); a therapist not in it is told nothing."""

    clinic: str = "default"
    recipients: dict[RecipientName, Recipient]
    routes: tuple[Route, ...]
    therapists: dict[TherapistId, RecipientName] = Field(default_factory=dict)
    smtp: SmtpServer | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "RoutingConfig":
        for route in self.routes:
            unknown = [name for name in route.recipients if name not in self.recipients]
            if unknown:
                raise ValueError(f"routes name unknown recipients: {', '.join(unknown)}")
        unknown = [f"{t} -> {n}" for t, n in self.therapists.items() if n not in self.recipients]
        if unknown:
            raise ValueError(f"therapists name unknown recipients: {', '.join(unknown)}")
        emails = [n for n, r in self.recipients.items() if isinstance(r, EmailRecipient)]
        if emails and self.smtp is None:
            raise ValueError("e-mail recipients need an `smtp` section")
        return self

    def recipients_for(self, kind: Kind) -> list[tuple[str, Recipient]]:
        """Each recipient once, in the order the routes first name them."""
        names: dict[str, None] = {}
        for route in self.routes:
            if kind in route.kinds or EVERY_KIND in route.kinds:
                names.update(dict.fromkeys(route.recipients))
        return [(name, self.recipients[name]) for name in names]


DEFAULT_ROUTING = RoutingConfig(
    recipients={"log": LogRecipient(channel="log")},
    routes=(Route(kinds=(EVERY_KIND,), recipients=("log",)),),
)


def parse_routing(data: Any, origin: str = "routing") -> RoutingConfig:
    if not isinstance(data, Mapping):
        raise RoutingConfigError(f"{origin}: must be a mapping with `recipients` and `routes`")
    try:
        return RoutingConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'top level'}: {err['msg']}"
            for err in exc.errors()
        )
        raise RoutingConfigError(f"{origin}: {problems}") from None
