"""The push client: every batch to every active receiver that takes its dataset, and the
receivers themselves.

A delivery is sent as ``POST`` of the batch's stored bytes — the same bytes every time, so a
receiver that sees a batch id twice sees identical bytes — with the batch id as the
``Idempotency-Key``, the platform's signature, key id and digests in headers. The answer decides:

* 2xx: acknowledged, with the receiver's receipt id (``receipt_id`` in a JSON body, or the
  ``X-Receipt-Id`` header). A Fujian-style ``{"STATUS": "-1", "MSG": …}`` is a refusal;
* 4xx (and a redirect, which is never followed): refused, not retried — the same bytes would be
  refused again;
* 5xx, a timeout or a network error: retried with exponential backoff (``backoff × 2ⁿ``, capped)
  up to ``attempts`` times in the run, then left ``failed`` for the next run.

Re-running never re-sends an acknowledged or refused delivery. A delivery is claimed with a
conditional update before it is sent (a lease on the domain clock), so two pushers never send it
at once; each outcome is recorded with one ledger event. Batches go out in dataset and sequence
order; after a failed one, the later batches of that dataset wait for the next run (a receiver
needs a project before its sections).

Credentials are never stored: a receiver's ``credential_ref`` names an environment variable
(``env:NAME``) that holds its bearer token, read at the moment of sending.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q

from ggzy.core import clock
from ggzy.core.errors import Conflict, NotFound, ValidationFailed
from ggzy.exchange.models import Batch, Delivery, DeliveryStatus, Receiver
from ggzy.exchange.national import SIGNATURE_ALG, require_manage
from ggzy.ledger.services import append_event

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
CREDENTIAL_RE = re.compile(r"^env:[A-Z_][A-Z0-9_]{0,100}$")
MAX_RESPONSE = 64 * 1024
LEASE = timedelta(minutes=10)
OPEN = (DeliveryStatus.PENDING.value, DeliveryStatus.FAILED.value)
ACKNOWLEDGED, REFUSED, FAILED = (DeliveryStatus.ACKNOWLEDGED.value, DeliveryStatus.REFUSED.value,
                                 DeliveryStatus.FAILED.value)  # fmt: skip


@dataclass(frozen=True)
class Policy:
    attempts: int = 4
    backoff: float = 1.0  # seconds before the first retry; doubled each time
    max_backoff: float = 60.0
    timeout: float = 10.0

    @classmethod
    def from_settings(cls) -> Policy:
        return cls(
            attempts=int(getattr(settings, "GGZY_EXCHANGE_PUSH_ATTEMPTS", 4)),
            backoff=float(getattr(settings, "GGZY_EXCHANGE_PUSH_BACKOFF", 1.0)),
            max_backoff=float(getattr(settings, "GGZY_EXCHANGE_PUSH_MAX_BACKOFF", 60.0)),
            timeout=float(getattr(settings, "GGZY_EXCHANGE_PUSH_TIMEOUT", 10.0)),
        )

    def delay(self, retry: int) -> float:
        return float(min(self.max_backoff, self.backoff * 2**retry))


@dataclass
class Outcome:
    batch: str
    receiver: str
    status: str
    attempts: int
    status_code: int | None = None
    receipt_id: str = ""
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


# --- receivers ------------------------------------------------------------------------------------


def _check_receiver(url: str, credential_ref: str, datasets: list[str]) -> None:
    from ggzy.exchange import national_fields

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 500:
        raise ValidationFailed("接收地址须为 http(s) URL (url must be http or https)",
                               code="bad_url", detail={"field": "url"})  # fmt: skip
    if credential_ref and not CREDENTIAL_RE.match(credential_ref):
        raise ValidationFailed(
            "凭据引用须为 env:变量名，不得填写凭据本身 (credential_ref must be env:NAME, never the secret)",
            code="bad_credential_ref", detail={"field": "credential_ref"},
        )  # fmt: skip
    known = national_fields.load().datasets
    unknown = [d for d in datasets if d not in known]
    if unknown:
        raise ValidationFailed("未知的数据集 (unknown dataset)", code="unknown_dataset",
                               detail={"datasets": unknown})  # fmt: skip


def add_receiver(
    *, actor: Any, name: str, url: str, credential_ref: str = "", datasets: list[str] | None = None
) -> Receiver:
    require_manage(actor)
    datasets = sorted(set(datasets or []))
    if not NAME_RE.match(name):
        raise ValidationFailed("名称须为小写字母、数字、- 或 _ (bad name)", code="bad_name",
                               detail={"field": "name"})  # fmt: skip
    _check_receiver(url, credential_ref, datasets)
    now = clock.now()
    with transaction.atomic():
        if Receiver.objects.filter(name=name).exists():
            raise Conflict("接收方已存在 (receiver exists)", code="receiver_exists")
        receiver = Receiver.objects.create(name=name, url=url, credential_ref=credential_ref,
                                           datasets=datasets, created_at=now, updated_at=now)  # fmt: skip
        append_event(actor=actor, event_type="exchange.receiver_added",
                     subject=f"exchange-receiver:{name}",
                     payload={"url": url, "datasets": datasets,
                              "credential_ref": credential_ref})  # fmt: skip
    return receiver


def set_receiver(
    *,
    actor: Any,
    name: str,
    active: bool | None = None,
    url: str | None = None,
    credential_ref: str | None = None,
    datasets: list[str] | None = None,
) -> Receiver:
    require_manage(actor)
    with transaction.atomic():
        receiver = Receiver.objects.select_for_update().filter(name=name).first()
        if receiver is None:
            raise NotFound("接收方不存在 (no such receiver)", code="receiver_not_found")
        new_url = receiver.url if url is None else url
        new_ref = receiver.credential_ref if credential_ref is None else credential_ref
        new_sets = receiver.datasets if datasets is None else sorted(set(datasets))
        _check_receiver(new_url, new_ref, new_sets)
        receiver.url, receiver.credential_ref, receiver.datasets = new_url, new_ref, new_sets
        if active is not None:
            receiver.active = active
        receiver.updated_at = clock.now()
        receiver.save()
        append_event(actor=actor, event_type="exchange.receiver_changed",
                     subject=f"exchange-receiver:{name}",
                     payload={"url": new_url, "datasets": new_sets, "active": receiver.active,
                              "credential_ref": new_ref})  # fmt: skip
    return receiver


# --- pushing --------------------------------------------------------------------------------------


def ensure_deliveries() -> int:
    """A delivery for every batch and active receiver that takes its dataset (a receiver added
    later gets the whole history, in order). Returns how many were created."""
    made = 0
    for receiver in Receiver.objects.filter(active=True):
        batches = Batch.objects.exclude(deliveries__receiver=receiver)
        if receiver.datasets:
            batches = batches.filter(dataset__in=receiver.datasets)
        rows = [
            Delivery(batch_id=pk, receiver=receiver) for pk in batches.values_list("pk", flat=True)
        ]
        made += len(Delivery.objects.bulk_create(rows, ignore_conflicts=True))
    return made


def push(*, actor: Any, receiver: str | None = None, policy: Policy | None = None) -> list[Outcome]:
    """Send every open delivery (to one receiver, or all active ones)."""
    require_manage(actor)
    policy = policy or Policy.from_settings()
    if receiver is not None and not Receiver.objects.filter(name=receiver).exists():
        raise NotFound("接收方不存在 (no such receiver)", code="receiver_not_found")
    ensure_deliveries()
    qs = Delivery.objects.filter(status__in=OPEN, receiver__active=True).select_related(
        "batch", "receiver"
    )
    if receiver is not None:
        qs = qs.filter(receiver__name=receiver)
    blocked: set[tuple[int, str]] = set()
    out = []
    for delivery in qs.order_by("receiver_id", "batch__dataset", "batch__sequence"):
        lane = (delivery.receiver_id, delivery.batch.dataset)
        if lane in blocked:
            continue
        outcome = deliver(actor=actor, delivery=delivery, policy=policy)
        if outcome is None:
            continue
        out.append(outcome)
        if outcome.status == FAILED:
            blocked.add(lane)
    return out


def _claim(delivery: Delivery) -> bool:
    now = clock.now()
    return bool(
        Delivery.objects.filter(pk=delivery.pk, status__in=OPEN)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + LEASE)
    )


def deliver(*, actor: Any, delivery: Delivery, policy: Policy) -> Outcome | None:
    """Send one delivery with its retries; ``None`` if another pusher has it or it is done."""
    if not _claim(delivery):
        return None
    batch, receiver = delivery.batch, delivery.receiver
    outcome = Outcome(batch.batch_id, receiver.name, FAILED, 0)
    token, problem = _credential(receiver)
    if problem:
        outcome.error = problem
    else:
        for attempt in range(policy.attempts):
            if attempt:
                time.sleep(policy.delay(attempt - 1))
            outcome.attempts += 1
            code, body, headers, error = _post(receiver.url, batch, token, policy.timeout)
            outcome.status_code, outcome.error = code, error
            if code is not None and 200 <= code < 300:
                refusal = _refusal_in(body)
                if refusal:
                    outcome.status, outcome.error = REFUSED, refusal
                else:
                    outcome.status = ACKNOWLEDGED
                    outcome.receipt_id = _receipt(body, headers)
                break
            if code is not None and code < 500:  # 3xx (not followed) and 4xx: final
                outcome.status = REFUSED
                break
    _record(actor, delivery, outcome)
    return outcome


def _credential(receiver: Receiver) -> tuple[str, str]:
    ref = receiver.credential_ref
    if not ref:
        return "", ""
    token = os.environ.get(ref[4:], "")
    if not token:
        return "", f"credential_unavailable: {ref}"
    return token, ""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect answers the POST: it is not followed with another method


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def _post(
    url: str, batch: Batch, token: str, timeout: float
) -> tuple[int | None, bytes, dict[str, str], str]:
    """(status, body, headers, error). ``status`` is ``None`` when nothing came back."""
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Idempotency-Key": batch.batch_id,
        "X-GGZY-Batch": batch.batch_id,
        "X-GGZY-Dataset": batch.dataset,
        "X-GGZY-Signature": batch.signature,
        "X-GGZY-Signature-Alg": SIGNATURE_ALG,
        "X-GGZY-Key-Id": batch.key_id,
        "X-GGZY-SHA256": batch.sha256,
        "X-GGZY-SM3": batch.sm3,
    }
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=batch.data, headers=headers, method="POST")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, response.read(MAX_RESPONSE), dict(response.headers), ""
    except urllib.error.HTTPError as exc:
        body = exc.read(MAX_RESPONSE) if exc.fp is not None else b""
        return exc.code, body, dict(exc.headers or {}), f"HTTP {exc.code}: {_snippet(body)}"
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
        # refused, reset, timed out, a broken answer: nothing usable came back
        reason = getattr(exc, "reason", exc)
        return None, b"", {}, f"{type(reason).__name__}: {reason}"[:500]


def _snippet(body: bytes) -> str:
    return body[:300].decode("utf-8", "replace")


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body.decode("utf-8")) if body else {}
    except (UnicodeDecodeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _refusal_in(body: bytes) -> str:
    data = _json(body)
    if str(data.get("STATUS", "")) == "-1":
        return f"refused: {str(data.get('MSG', ''))[:300]}"
    return ""


def _receipt(body: bytes, headers: dict[str, str]) -> str:
    data = _json(body)
    for key in ("receipt_id", "receipt", "RECEIPT_ID"):
        if isinstance(data.get(key), str | int) and not isinstance(data.get(key), bool):
            return str(data[key])[:120]
    lowered = {k.lower(): v for k, v in headers.items()}
    return str(lowered.get("x-receipt-id", ""))[:120]


def _record(actor: Any, delivery: Delivery, outcome: Outcome) -> None:
    now = clock.now()
    fields: dict[str, Any] = {
        "status": outcome.status, "last_error": outcome.error[:2000],
        "last_status_code": outcome.status_code, "last_attempt_at": now, "claimed_until": None,
    }  # fmt: skip
    if outcome.status == ACKNOWLEDGED:
        fields |= {"acknowledged_at": now, "receipt_id": outcome.receipt_id, "last_error": ""}
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            attempts=F("attempts") + outcome.attempts, **fields
        )
        append_event(actor=actor, event_type=f"exchange.delivery_{outcome.status}",
                     subject=f"exchange-batch:{outcome.batch}",
                     payload={"receiver": outcome.receiver, "attempts": outcome.attempts,
                              "status_code": outcome.status_code, "receipt_id": outcome.receipt_id,
                              "error": outcome.error[:300]})  # fmt: skip


def status() -> dict[str, Any]:
    """Each dataset's cursor and each receiver's deliveries by status."""
    from django.db.models import Count

    from ggzy.exchange.models import Cursor

    cursors = {c.dataset: {"sequence": c.sequence, "built_at": c.built_at,
                           "last_batch": c.last_batch.batch_id if c.last_batch else None}
               for c in Cursor.objects.select_related("last_batch")}  # fmt: skip
    receivers: dict[str, Any] = {}
    for r in Receiver.objects.order_by("name"):
        counts = dict(
            r.deliveries.values_list("status").annotate(n=Count("pk")).values_list("status", "n")
        )
        receivers[r.name] = {"active": r.active, "url": r.url, "deliveries": counts}
    return {"datasets": cursors, "receivers": receivers}
