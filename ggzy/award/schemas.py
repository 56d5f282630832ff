"""Result API schemas: strict input (unknown fields refused), plain output. Money is a decimal
string both ways."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from ninja import Schema
from pydantic import Field

from ggzy.core.schemas import StrictSchema


class AwardPublicityIn(StrictSchema):
    ends_at: datetime
    starts_at: datetime | None = None


class AwardObjectionIn(StrictSchema):
    entity: str = Field(min_length=18, max_length=18)  # the objecting bidder's USCC
    reason: str = Field(max_length=5000)


class AwardReplyIn(StrictSchema):
    reply: str = Field(max_length=5000)


class AwardConfirmIn(StrictSchema):
    rank: int = Field(1, ge=1, le=3)
    reason: str = Field("", max_length=2000)


class AwardWithdrawIn(StrictSchema):
    ground: str = Field(max_length=20)
    reason: str = Field(max_length=2000)


class AwardContractIn(StrictSchema):
    amount: str = Field(min_length=1, max_length=20)
    signed_on: date
    security_amount: str = Field("0", min_length=1, max_length=20)
    security_form: str = Field("none", max_length=20)


class AwardFilingIn(StrictSchema):
    reference: str = Field(max_length=64)


class AwardObligationIn(StrictSchema):
    kind: str = Field(max_length=20)
    name: str = Field(max_length=100)
    amount: str = Field(min_length=1, max_length=20)
    due_on: date
    refund_due_on: date | None = None


class AwardSettleIn(StrictSchema):
    status: Literal["paid", "refunded"]
    on: date
    reference: str = Field("", max_length=64)


class AwardPartyOut(Schema):
    name: str
    uscc: str


class AwardCandidateOut(Schema):
    rank: int
    label: str
    bidder: AwardPartyOut
    price: str
    evaluated_price: str | None
    total: str | None
    withdrawn: bool
    withdrawal_ground: str | None


class AwardPublicityOut(Schema):
    public_id: str
    section: str
    regime: str
    stage: str
    report_sha256: str
    report_signed_at: datetime
    starts_at: datetime
    ends_at: datetime
    late: bool
    published_at: datetime
    candidates: list[AwardCandidateOut]


class AwardObjectionOut(Schema):
    public_id: str
    bidder: AwardPartyOut
    reason: str
    raised_at: datetime
    reply_due: datetime
    status: str
    reply: str
    replied_at: datetime | None
    late: bool


class AwardNoticeOut(Schema):
    public_id: str
    section: str
    winner: AwardPartyOut
    rank: int
    amount: str
    reason: str
    issued_at: datetime
    record: dict[str, object]
    record_sha256: str
    signature: str
    key_id: str
    record_seq: int | None
    verified: bool
    validity_warning: bool
    deemed: bool


class AwardNoticePrivateOut(AwardNoticeOut):
    report_filed_at: datetime | None
    report_reference: str


class AwardMyResultOut(Schema):
    entity: str
    uscc: str
    label: str
    valid: bool
    invalid_reason: str | None
    rank: int | None
    of: int
    total: str | None
    price: str | None
    evaluated_price: str | None
    price_points: str | None
    candidate_rank: int | None
    won: bool
    awarded: bool


class AwardContractOut(Schema):
    public_id: str
    section: str
    winner: AwardPartyOut
    amount: str
    signed_on: date
    deadline: date
    late: bool
    security_amount: str
    security_form: str
    publication_due: date | None
    published_at: datetime | None
    filing_due: date | None
    filed_at: datetime | None
    filing_reference: str


class AwardObligationOut(Schema):
    id: int | None
    kind: str
    name: str
    amount: str
    due_on: date | None
    refund_due_on: date | None
    status: str
    paid_on: date | None
    refunded_on: date | None
    reference: str


class AwardObligationsOut(Schema):
    contract: str | None
    obligations: list[AwardObligationOut]


class AwardWarningOut(Schema):
    section: str
    section_label: str
    project: str
    kind: str
    message: str
    due: date
    days_overdue: int
    level: str
    rule: str


class AwardSummaryOut(Schema):
    section: str
    stage: str
    publicity: AwardPublicityOut | None
    award: AwardNoticeOut | None
    contract: AwardContractOut | None
