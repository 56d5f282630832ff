"""Public ledger API: tree head, change feed, events, inclusion and consistency proofs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from ggzy.api import PUBLIC
from ggzy.core.errors import NotFound
from ggzy.core.schemas import ErrorOut, StrictSchema
from ggzy.ledger import proofs, selectors, signing

router = Router(tags=["ledger"])


class TreeHeadOut(StrictSchema):
    size: int
    root: str
    alg: str
    time_us: int
    key_id: str
    signature: str
    signature_alg: str


class EventOut(StrictSchema):
    seq: int
    time_us: int
    recorded_at: datetime
    actor: str
    addr: str
    type: str
    subject: str
    payload_digest: str
    prev_hash: str
    hash: str
    payload: dict[str, Any] | None = None


class FeedOut(StrictSchema):
    items: list[EventOut]
    next_after: int


class KeyOut(StrictSchema):
    key_id: str
    public_key_pem: str
    signature_alg: str


@router.get("head", response={200: TreeHeadOut, 404: ErrorOut}, auth=PUBLIC)
def head(request: HttpRequest) -> object:
    """The latest signed tree head (signed anew if the ledger has grown)."""
    sth = proofs.latest_tree_head()
    if sth is None:
        raise NotFound("账本为空", code="ledger_empty")
    return proofs.tree_head_json(sth)


@router.get("key", response=KeyOut, auth=PUBLIC)
def key(request: HttpRequest) -> dict[str, str]:
    """The platform's tree-head verification key (PEM, ECDSA P-256)."""
    return {
        "key_id": signing.key_id(),
        "public_key_pem": signing.public_key_pem(),
        "signature_alg": "ecdsa-p256-sha256",
    }


@router.get("events", response=FeedOut, auth=PUBLIC)
def feed(
    request: HttpRequest,
    after: int = Query(0, ge=0),
    limit: int = Query(50, ge=1, le=500),
    type: str = Query("", max_length=80),
    subject: str = Query("", max_length=200),
) -> dict[str, object]:
    """Change feed: pass the last ``next_after`` back as ``after`` to continue."""
    events = selectors.events_after(after=after, limit=limit, event_type=type, subject=subject)
    return {
        "items": [selectors.event_view(request.user, e) for e in events],
        "next_after": events[-1].seq if events else after,
    }


@router.get("events/{int:seq}", response={200: EventOut, 404: ErrorOut}, auth=PUBLIC)
def event(request: HttpRequest, seq: int) -> object:
    return selectors.event_for(request.user, seq)


@router.get(
    "events/{int:seq}/proof",
    response={200: dict[str, Any], 404: ErrorOut, 422: ErrorOut},
    auth=PUBLIC,
)
def inclusion(request: HttpRequest, seq: int, tree_size: int | None = Query(None, ge=1)) -> object:
    """Inclusion proof of event ``seq`` in a signed tree head (RFC 6962 audit path)."""
    return proofs.inclusion_proof(seq, tree_size)


@router.get(
    "consistency", response={200: dict[str, Any], 404: ErrorOut, 422: ErrorOut}, auth=PUBLIC
)
def consistency(
    request: HttpRequest, old: int = Query(..., ge=1), new: int = Query(..., ge=1)
) -> object:
    """Consistency proof that the tree of ``new`` events extends the tree of ``old`` events."""
    return proofs.consistency_proof(old, new)
