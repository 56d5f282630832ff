"""The push client against a real local HTTP receiver (``http.server`` in a thread): retries on
5xx, timeouts and refused connections with backoff, no retry on 4xx, acknowledgements and
receipts recorded, idempotency (the batch id as key, identical bytes every time, nothing re-sent
once acknowledged), credentials only by reference — and the staff API and the CLI over it."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Q

from ggzy.core.errors import Conflict, PermissionDenied, ValidationFailed
from ggzy.exchange import national, push
from ggzy.exchange.models import Batch, Delivery, Receiver
from ggzy.ledger.models import Event
from ggzy.registry.models import Entity
from tests.conftest import uscc
from tests.exchange.test_national_build import configure, entities  # noqa: F401 (fixtures)

CLI = "system:cli"
FAST = push.Policy(attempts=4, backoff=0.01, max_backoff=0.05, timeout=0.5)


@dataclass
class Seen:
    key: str
    body: bytes
    headers: dict[str, str]


@dataclass
class Script:
    """What the receiver answers, one entry per request (the last one repeats): a status and
    a JSON body, or ``("sleep", seconds)`` to answer only after the client gave up."""

    answers: list[tuple[Any, Any]] = field(default_factory=lambda: [(200, {"receipt_id": "R-1"})])
    seen: list[Seen] = field(default_factory=list)

    def next(self) -> tuple[Any, Any]:
        index = min(len(self.seen) - 1, len(self.answers) - 1)
        return self.answers[index]


class LocalReceiver:
    def __init__(self) -> None:
        self.script = Script()
        script = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                script.script.seen.append(
                    Seen(
                        self.headers.get("Idempotency-Key", ""),
                        body,
                        {k.lower(): v for k, v in self.headers.items()},
                    )
                )
                status, value = script.script.next()
                if status == "sleep":
                    time.sleep(value)
                    status, value = 200, {"receipt_id": "late"}
                data = json.dumps(value).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/exchange/batches"

    def answer(self, *answers: tuple[Any, Any]) -> None:
        self.script = Script(list(answers))

    @property
    def seen(self) -> list[Seen]:
        return self.script.seen

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[LocalReceiver]:
    server = LocalReceiver()
    yield server
    server.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def batch(configure, entities) -> Batch:  # type: ignore[no-untyped-def]  # noqa: F811
    built = national.build_batch(actor=CLI, dataset="100").batch
    assert built is not None
    return built


def add(url: str, name: str = "province", **kwargs: Any) -> Receiver:
    return push.add_receiver(actor=CLI, name=name, url=url, **kwargs)


def outcome_events() -> list[tuple[str, dict[str, Any]]]:
    rows = Event.objects.filter(event_type__startswith="exchange.delivery_").order_by("seq")
    return [(e, json.loads(p)) for e, p in rows.values_list("event_type", "payload")]


# --- retries, refusals, acknowledgements ----------------------------------------------------------


def test_5xx_is_retried_until_acknowledged_with_identical_bytes(receiver, batch) -> None:  # type: ignore[no-untyped-def]
    add(receiver.url)
    receiver.answer((503, {"error": "busy"}), (500, {}), (200, {"receipt_id": "NAT-0001"}))
    [outcome] = push.push(actor=CLI, policy=FAST)
    assert (outcome.status, outcome.attempts, outcome.receipt_id) == ("acknowledged", 3, "NAT-0001")
    assert [s.key for s in receiver.seen] == [batch.batch_id] * 3
    assert {s.body for s in receiver.seen} == {batch.data}  # the same bytes every time
    headers = receiver.seen[0].headers
    assert headers["x-ggzy-signature"] == batch.signature
    assert national.verify_bytes(receiver.seen[0].body, headers["x-ggzy-signature"])
    d = Delivery.objects.get()
    assert (d.status, d.attempts, d.receipt_id, d.last_status_code) == (
        "acknowledged", 3, "NAT-0001", 200)  # fmt: skip
    assert d.acknowledged_at is not None and d.claimed_until is None
    assert outcome_events() == [("exchange.delivery_acknowledged", {
        "receiver": "province", "attempts": 3, "status_code": 200, "receipt_id": "NAT-0001",
        "error": ""})]  # fmt: skip


def test_an_acknowledged_batch_is_never_sent_again(receiver, batch) -> None:  # type: ignore[no-untyped-def]
    add(receiver.url)
    push.push(actor=CLI, policy=FAST)
    assert push.push(actor=CLI, policy=FAST) == []
    assert len(receiver.seen) == 1 and Delivery.objects.get().attempts == 1


def test_a_4xx_is_refused_at_once_and_not_retried_on_the_next_run(receiver, batch) -> None:  # type: ignore[no-untyped-def]
    add(receiver.url)
    receiver.answer((400, {"error": "bad dataset"}))
    [outcome] = push.push(actor=CLI, policy=FAST)
    assert (outcome.status, outcome.attempts, outcome.status_code) == ("refused", 1, 400)
    assert "bad dataset" in outcome.error
    assert push.push(actor=CLI, policy=FAST) == []
    assert len(receiver.seen) == 1
    d = Delivery.objects.get()
    assert (d.status, d.attempts, d.acknowledged_at) == ("refused", 1, None)


def test_a_fujian_style_status_minus_1_is_a_refusal(receiver, batch) -> None:  # type: ignore[no-untyped-def]
    add(receiver.url)
    receiver.answer((200, {"STATUS": "-1", "MSG": "招标项目数据未上报"}))
    [outcome] = push.push(actor=CLI, policy=FAST)
    assert outcome.status == "refused" and "招标项目数据未上报" in outcome.error


def test_a_timeout_is_retried_and_the_receiver_sees_the_same_bytes_twice(receiver, batch) -> None:  # type: ignore[no-untyped-def]
    add(receiver.url)
    receiver.answer(("sleep", 1.5), (200, {"receipt_id": "R-2"}))
    [outcome] = push.push(actor=CLI, policy=FAST)
    assert (outcome.status, outcome.attempts, outcome.receipt_id) == ("acknowledged", 2, "R-2")
    first, second = receiver.seen[:2]
    assert first.key == second.key == batch.batch_id and first.body == second.body == batch.data


def test_a_receiver_that_is_down_leaves_the_delivery_failed_for_the_next_run(batch) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    add(f"http://127.0.0.1:{port}/in")
    started = time.monotonic()
    [outcome] = push.push(actor=CLI, policy=FAST)
    elapsed = time.monotonic() - started
    assert (outcome.status, outcome.attempts, outcome.status_code) == ("failed", 4, None)
    assert "ConnectionRefused" in outcome.error
    assert elapsed >= 0.01 + 0.02 + 0.04  # backoff 0.01 × 2ⁿ before each of the 3 retries
    d = Delivery.objects.get()
    assert (d.status, d.attempts) == ("failed", 4)
    # the receiver comes back: the next run sends it
    server = LocalReceiver()
    try:
        push.set_receiver(actor=CLI, name="province", url=server.url)
        [again] = push.push(actor=CLI, policy=FAST)
        assert again.status == "acknowledged"
        assert Delivery.objects.get().attempts == 5
    finally:
        server.close()


def test_after_a_failed_batch_the_later_batches_of_its_dataset_wait(configure, entities) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    national.build_batch(actor=CLI, dataset="100")
    Entity.objects.filter(uscc=uscc(1)).update(address="南京市秦淮区1号")
    national.build_batch(actor=CLI, dataset="100")
    add(f"http://127.0.0.1:{free_port()}/in")
    outcomes = push.push(actor=CLI, policy=push.Policy(attempts=1, backoff=0.01, timeout=0.5))
    assert [(o.batch[:15], o.status) for o in outcomes] == [("NX100-00000001-", "failed")]
    assert Delivery.objects.filter(status="pending").count() == 1


def test_deliveries_follow_receivers_and_their_datasets(receiver, batch) -> None:  # type: ignore[no-untyped-def]
    add(receiver.url, "province")
    add(receiver.url, "projects-only", datasets=["500"])
    push.push(actor=CLI, policy=FAST)
    assert list(Delivery.objects.values_list("receiver__name", "status")) == [
        ("province", "acknowledged")]  # fmt: skip
    push.set_receiver(actor=CLI, name="province", active=False)
    add(receiver.url, "national")  # added later: gets the history
    [outcome] = push.push(actor=CLI, policy=FAST)
    assert (outcome.receiver, outcome.batch) == ("national", batch.batch_id)


def test_a_push_already_claimed_by_another_pusher_is_skipped(receiver, batch) -> None:  # type: ignore[no-untyped-def]
    add(receiver.url)
    push.ensure_deliveries()
    d = Delivery.objects.get()
    assert push._claim(d)  # another pusher holds it
    assert push.push(actor=CLI, policy=FAST) == []
    assert receiver.seen == []


# --- credentials -----------------------------------------------------------------------------------


def test_the_credential_is_read_from_the_environment_and_never_stored(  # type: ignore[no-untyped-def]
    receiver, batch, monkeypatch
) -> None:
    token = "tok-5b1f0c-very-secret"
    monkeypatch.setenv("GGZY_NATIONAL_TOKEN", token)
    add(receiver.url, credential_ref="env:GGZY_NATIONAL_TOKEN")
    push.push(actor=CLI, policy=FAST)
    assert receiver.seen[0].headers["authorization"] == f"Bearer {token}"
    stored = [str(v) for v in Receiver.objects.values_list()] + [
        p for p in Event.objects.values_list("payload", flat=True)
    ] + list(Batch.objects.values_list("content", flat=True))  # fmt: skip
    assert not any(token in v for v in stored)
    assert not Delivery.objects.filter(Q(last_error__contains=token) | Q(receipt_id=token)).exists()


def test_a_missing_credential_fails_without_sending(receiver, batch, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("GGZY_NATIONAL_TOKEN", raising=False)
    add(receiver.url, credential_ref="env:GGZY_NATIONAL_TOKEN")
    [outcome] = push.push(actor=CLI, policy=FAST)
    assert outcome.status == "failed" and outcome.error.startswith("credential_unavailable")
    assert receiver.seen == []


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"credential_ref": "s3cr3t-token"}, "bad_credential_ref"),
        ({"credential_ref": "env:lower"}, "bad_credential_ref"),
        ({"url": "ftp://example.org/in"}, "bad_url"),
        ({"url": "not a url"}, "bad_url"),
        ({"datasets": ["999"]}, "unknown_dataset"),
        ({"name": "Has Space"}, "bad_name"),
    ],
)
def test_bad_receivers_are_refused_and_nothing_is_written(db, kwargs, code) -> None:  # type: ignore[no-untyped-def]
    values = {"name": "province", "url": "https://ggzy.example/in"} | kwargs
    with pytest.raises(ValidationFailed) as exc:
        push.add_receiver(actor=CLI, **values)
    assert exc.value.code == code and exc.value.status == 422
    assert not Receiver.objects.exists()
    assert not Event.objects.filter(event_type__startswith="exchange.").exists()


def test_receivers_are_kept_by_the_centers_administrator_only(db, users) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        push.add_receiver(actor=users["center_operations"], name="p", url="https://x.example/")
    push.add_receiver(actor=users["center_admin"], name="p", url="https://x.example/")
    with pytest.raises(Conflict):
        push.add_receiver(actor=users["center_admin"], name="p", url="https://y.example/")
    with pytest.raises(PermissionDenied):
        push.push(actor=users["bidder"])


# --- API and CLI -----------------------------------------------------------------------------------


def _token(user: Any) -> dict[str, str]:
    from ggzy.accounts.services import issue_token

    _, secret = issue_token(actor=user, name="t")
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def test_staff_read_batches_their_bytes_and_deliveries(client, receiver, batch, users) -> None:  # type: ignore[no-untyped-def]
    add(receiver.url)
    push.push(actor=CLI, policy=FAST)
    staff = _token(users["center_archive"])
    rows = client.get("/api/v1/exchange/national/batches", **staff).json()
    assert [(r["batch_id"], r["verified"], r["record_count"]) for r in rows] == [
        (batch.batch_id, True, 2)]  # fmt: skip
    one = client.get(f"/api/v1/exchange/national/batches/{batch.batch_id}", **staff)
    assert one.status_code == 200 and one.json()["signature"] == batch.signature
    raw = client.get(f"/api/v1/exchange/national/batches/{batch.batch_id}/content", **staff)
    assert raw.status_code == 200 and raw.content == batch.data
    assert national.verify_bytes(raw.content, raw["X-GGZY-Signature"])
    deliveries = client.get("/api/v1/exchange/national/deliveries?status=acknowledged", **staff)
    assert [(d["receiver"], d["receipt_id"]) for d in deliveries.json()] == [("province", "R-1")]


def test_the_api_refuses_non_staff_and_unknown_batches_with_the_error_shape(  # type: ignore[no-untyped-def]
    client, batch, users
) -> None:
    anonymous = client.get("/api/v1/exchange/national/batches")
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "not_authenticated"
    for role in ("bidder", "regulator"):
        r = client.get("/api/v1/exchange/national/batches", **_token(users[role]))
        assert r.status_code == 403 and set(r.json()) == {"code", "message", "detail"}
    staff = _token(users["center_admin"])
    missing = client.get("/api/v1/exchange/national/batches/NX100-nope", **staff)
    assert missing.status_code == 404 and missing.json()["code"] == "batch_not_found"
    bad = client.get("/api/v1/exchange/national/deliveries?status=bogus", **staff)
    assert bad.status_code == 422 and bad.json()["code"] == "validation_error"


def test_the_cli_builds_pushes_and_reports(receiver, configure, entities) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    out = StringIO()
    call_command("exchange", "receivers", "add", "province", receiver.url, stdout=out)
    call_command("exchange", "build", "100", "600", stdout=out)
    text = out.getvalue()
    assert "100: NX100-00000001-" in text and "accepted=2" in text
    assert "600: 0 records (not traded on this platform)" in text
    out = StringIO()
    call_command("exchange", "push", "--json", stdout=out)
    [line] = out.getvalue().splitlines()
    assert json.loads(line)["status"] == "acknowledged"
    out = StringIO()
    call_command("exchange", "status", "--json", stdout=out)
    status = json.loads(out.getvalue())
    assert status["receivers"]["province"]["deliveries"] == {"acknowledged": 1}
    assert status["datasets"]["100"]["sequence"] == 1
    batch_id = Batch.objects.get().batch_id
    out = StringIO()
    call_command("exchange", "verify", batch_id, stdout=out)
    assert "verified" in out.getvalue()
    with pytest.raises(CommandError, match="unknown_dataset"):
        call_command("exchange", "build", "999")
    with pytest.raises(CommandError, match="bad_credential_ref"):
        call_command("exchange", "receivers", "add", "x", receiver.url, "--credential-ref", "pw")
