"""`courseflow.notice.issued` on `courseflow.notices`."""

from typing import Annotated, Literal

from pydantic import Field

from schemas.base import WireModel
from schemas.envelope import Envelope
from schemas.rules import Rule
from schemas.types import Identifier, OneLine, Slug, UniqueItems

Delivery = Literal["delivered", "failed"]


class NoticeIssuedData(WireModel):
    """`summary` is one line for humans: no patient data beyond the patient id."""

    notice_id: Identifier
    kind: Slug
    audience: Literal["staff"]
    channel: Slug
    recipient: Identifier
    summary: OneLine
    rules: UniqueItems[Rule]
    cause_id: Identifier
    delivery: Delivery
    attempts: Annotated[int, Field(ge=1)]


class NoticeIssued(Envelope):
    type: Literal["courseflow.notice.issued"]
    data: NoticeIssuedData
