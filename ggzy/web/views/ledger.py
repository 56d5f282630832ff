"""The public ledger pages: signed tree head, event list, one event with its inclusion proof."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from ggzy.core.errors import DomainError
from ggzy.ledger.proofs import inclusion_proof, latest_tree_head
from ggzy.ledger.selectors import event_for, events_after
from ggzy.web.forms import EventLookupForm
from ggzy.web.views.common import error_page, event_row, from_time_us, head_context, subject_url

PAGE_SIZE = 25


def _cursor(value: str | None, default: int) -> int:
    try:
        return max(0, int(value)) if value is not None else default
    except ValueError:
        return default


def index(request: HttpRequest) -> HttpResponse:
    lookup = EventLookupForm(request.GET if "seq" in request.GET else None)
    if lookup.is_bound and lookup.is_valid():
        return redirect("web:ledger_event", seq=lookup.cleaned_data["seq"])
    head = latest_tree_head()
    size = head.size if head else 0
    newest_page = max(0, size - PAGE_SIZE)
    after = _cursor(request.GET.get("after"), newest_page)
    events = events_after(after=after, limit=PAGE_SIZE)
    return render(
        request,
        "web/ledger/index.html",
        {
            "head": head_context(head),
            "lookup": lookup,
            "events": [event_row(e) for e in events],
            "after": after,
            "first_after": 0 if after > 0 else None,
            "prev_after": max(0, after - PAGE_SIZE) if after > 0 else None,
            "next_after": events[-1].seq
            if len(events) == PAGE_SIZE and events[-1].seq < size
            else None,
            "newest_after": newest_page if after < newest_page else None,
        },
    )


def event(request: HttpRequest, seq: int) -> HttpResponse:
    try:
        data = event_for(request.user, seq)
        proof = inclusion_proof(seq)
    except DomainError as exc:
        return error_page(request, 404, exc.message)
    payload = data.get("payload")
    return render(
        request,
        "web/ledger/event.html",
        {
            "event": data,
            "subject_url": subject_url(data["subject"]),
            "payload_json": (
                json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True)
                if payload is not None
                else None
            ),
            "proof": proof,
            "proof_head_signed_at": from_time_us(proof["tree_head"]["time_us"]),
        },
    )
