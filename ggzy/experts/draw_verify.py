"""Verifying a draw (``ggzy experts verify-draw DRAW_ID``, the auditor's page and API).

From public data — the commitment event, the first signed tree head that includes it (its
signature, the event's inclusion proof, and that no smaller signed head covers the event), the
revealed secret — and the sealed inputs (unsealed with the draw key; their SHA-256 is in the
public ``experts.draw_drawn`` event), the draw is replayed with ``draw_select`` — the same code
the live draw ran — and compared with what was recorded: every candidate examined and why it was
skipped, and who was drawn, in which order, as main or backup. Replacements are checked to have
taken the backups in order. Nothing in the current pool is read: the replay holds however much the
pool has changed since.

Before the session starts the secret is not public yet; the verification then uses the sealed
secret (and says so) and shows pseudonyms only.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from typing import Any

from ggzy.core import clock
from ggzy.experts import draw_seal
from ggzy.experts.draw_models import Draw, DrawnExpert
from ggzy.experts.draw_select import (
    Parties,
    QuotaSpec,
    RecordMismatch,
    RecordSource,
    RegionRule,
    draw_seed,
    run_draw,
    stratum_key,
)
from ggzy.experts.draw_states import SEATED, DrawnRole, DrawnStatus, DrawStatus
from ggzy.ledger import offline, signing
from ggzy.ledger.chain import canonical_json, hasher
from ggzy.ledger.models import Event, TreeHead
from ggzy.ledger.proofs import inclusion_proof, tree_head_json


class _Checks:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, name: str, ok: bool, message: str = "") -> bool:
        self.items.append({"check": name, "ok": bool(ok), "message": message})
        return bool(ok)

    @property
    def ok(self) -> bool:
        return bool(self.items) and all(i["ok"] for i in self.items)


def _payload(event: Event | None) -> dict[str, Any]:
    return json.loads(event.payload) if event is not None else {}


def _events(draw: Draw) -> dict[str, Event]:
    out: dict[str, Event] = {}
    for event in Event.objects.filter(subject=f"expert-draw:{draw.public_id}").order_by("seq"):
        out.setdefault(event.event_type, event)
    return out


def unseal_inputs(draw: Draw) -> tuple[bytes, dict[str, Any]]:
    body = zlib.decompress(draw_seal.unseal_bytes("inputs", draw.public_id, draw.sealed_inputs))
    return body, json.loads(body)


def _ledger_checks(draw: Draw, checks: _Checks, events: dict[str, Event]) -> dict[str, Any]:
    committed = events.get("experts.draw_committed")
    terms = _payload(committed)
    checks.add(
        "commitment_event",
        committed is not None
        and committed.seq == draw.commit_seq
        and terms.get("commitment") == draw.commitment
        and hasher(_alg())(committed.payload.encode()).hex() == committed.payload_digest,
        f"event #{draw.commit_seq} commits SHA-256 {draw.commitment[:16]}…",
    )
    head = TreeHead.objects.filter(size=draw.tree_size).first() if draw.tree_size else None
    signed = False
    if head is not None:
        try:
            offline.check_tree_head_signature(tree_head_json(head), signing.public_key_pem())
            signed = head.root == draw.tree_root
        except offline.ProofInvalid:
            signed = False
    checks.add("tree_head_signed", signed, f"signed tree head of {draw.tree_size} events")
    earlier = (
        draw.commit_seq is not None
        and head is not None
        and not TreeHead.objects.filter(size__gte=draw.commit_seq, size__lt=head.size).exists()
    )
    checks.add("first_covering_head", earlier, "no smaller signed head includes the commitment")
    included = False
    if head is not None and draw.commit_seq is not None:
        try:
            offline.check_inclusion(
                inclusion_proof(draw.commit_seq, head.size), signing.public_key_pem()
            )
            included = True
        except (offline.ProofInvalid, Exception):
            included = False
    checks.add("commitment_included", included, "the commitment event is in that tree")
    return terms


def _covered(seq: int) -> tuple[bool, str]:
    """Is event ``seq`` in the first signed tree head that includes it (signature and inclusion
    proof)? Not yet covered by any signed head: nothing to check yet (the next head covers it)."""
    head = TreeHead.objects.filter(size__gte=seq).order_by("size").first()
    if head is None:
        return True, "not yet in a signed tree head"
    try:
        offline.check_tree_head_signature(tree_head_json(head), signing.public_key_pem())
        offline.check_inclusion(inclusion_proof(seq, head.size), signing.public_key_pem())
    except Exception:  # a proof that does not hold, or cannot be built
        return False, f"not proven in the signed tree head of {head.size} events"
    return True, f"in the signed tree head of {head.size} events"


def _published_checks(draw: Draw, checks: _Checks, events: dict[str, Event]) -> None:
    """The ``draw_drawn`` (or ``draw_unfillable``) event: its payload digest, its inclusion in a
    signed tree head, and that what it publishes is what the draw's record and rows say."""
    published = events.get("experts.draw_drawn") or events.get("experts.draw_unfillable")
    if published is None:
        checks.add("drawn_event", False, "no draw_drawn or draw_unfillable event")
        return
    payload = _payload(published)
    intact = hasher(_alg())(published.payload.encode()).hex() == published.payload_digest
    covered, where = _covered(published.seq)
    checks.add(
        "drawn_event",
        intact and covered,
        f"event #{published.seq} ({published.event_type}) matches its digest, {where}"
        if intact
        else f"event #{published.seq} does not match its chained payload digest",
    )
    rows = sorted(
        (r.quota.position, r.position, r.quota.code, r.role, r.pseudonym)
        for r in DrawnExpert.objects.filter(draw=draw).select_related("quota")
    )
    listed = [(r[2], r[1], r[3], r[4]) for r in rows]
    said = [
        (d.get("quota"), d.get("position"), d.get("role"), d.get("pseudonym"))
        for d in payload.get("drawn", [])
    ]
    checks.add(
        "drawn_event_matches",
        payload.get("inputs_sha256") == draw.inputs_sha256
        and payload.get("tree_size") == draw.tree_size
        and payload.get("tree_root") == draw.tree_root
        and payload.get("commit_seq") == draw.commit_seq
        and said == listed,
        "the published digest, tree head and drawn pseudonyms are the draw's",
    )


def _answers_check(draw: Draw, checks: _Checks) -> None:
    """Each row's status follows from the answer events (confirmed, declined, no answer, and a
    replacement calling a backup), and no quota seats more than its count."""
    answers: dict[str, set[str]] = {}
    called, out = set(), set()
    for kind, payload in Event.objects.filter(
        subject=f"expert-draw:{draw.public_id}",
        event_type__in=[
            "experts.draw_confirmed",
            "experts.draw_declined",
            "experts.draw_no_answer",
            "experts.draw_replaced",
        ],
    ).values_list("event_type", "payload"):
        data = json.loads(payload)
        if kind == "experts.draw_replaced":
            called.add(data.get("in"))
            out.add(data.get("out"))
        else:
            answers.setdefault(data.get("pseudonym"), set()).add(kind.rsplit("_", 1)[-1])
    problems = []
    for row in DrawnExpert.objects.filter(draw=draw).select_related("quota"):
        said = answers.get(row.pseudonym, set())
        if row.role == DrawnRole.BACKUP and row.pseudonym not in called:
            expected = DrawnStatus.STANDBY
        elif row.pseudonym in out:
            expected = DrawnStatus.REPLACED
        elif "confirmed" in said:
            expected = DrawnStatus.CONFIRMED
        elif "declined" in said:
            expected = DrawnStatus.DECLINED
        elif "answer" in said:
            expected = DrawnStatus.NO_ANSWER
        else:
            expected = DrawnStatus.NOTIFIED
        if row.status != expected or len(said) > 1:
            problems.append(f"{row.quota.code} {row.role} {row.position}: {row.status}")
    for quota in draw.quotas.all():
        seated = quota.drawn.filter(status__in=SEATED).count()
        if seated > quota.count:
            problems.append(f"{quota.code}: {seated} seated of {quota.count}")
    checks.add(
        "answers",
        not problems,
        "; ".join(problems) or "every seat's status follows from the answer events",
    )


def _alg() -> str:
    from ggzy.ledger.services import ledger_alg

    return ledger_alg()


def _secret(draw: Draw, events: dict[str, Event]) -> tuple[bytes | None, str]:
    for kind in ("experts.draw_revealed", "experts.draw_unfillable"):
        secret = _payload(events.get(kind)).get("secret")
        if secret:
            return bytes.fromhex(secret), "revealed"
    if draw.sealed_secret:
        sealed = draw_seal.unseal("secret", draw.public_id, draw.sealed_secret)
        return bytes.fromhex(sealed), "sealed"
    return None, "missing"


def _drawn_rows(draw: Draw) -> dict[str, list[tuple[int, str, bool, DrawnExpert]]]:
    out: dict[str, list[tuple[int, str, bool, DrawnExpert]]] = {}
    for row in (
        DrawnExpert.objects.filter(draw=draw)
        .select_related("quota", "draw")
        .order_by("quota__position", "position")
    ):
        expert = draw_seal.unseal("identity", draw.public_id, row.sealed_identity)["expert"]
        out.setdefault(row.quota.code, []).append((int(expert), row.role, row.other_region, row))
    return out


def _replacement_check(draw: Draw, checks: _Checks, events: dict[str, Event]) -> None:
    problems = []
    for quota in draw.quotas.all():
        backups = list(quota.drawn.filter(role=DrawnRole.BACKUP).order_by("position"))
        for b in backups:
            if b.status == DrawnStatus.STANDBY:
                continue
            skipped = [
                x
                for x in backups
                if x.position < b.position
                and x.status == DrawnStatus.STANDBY
                and not (b.other_region and not x.other_region)
            ]
            if skipped:
                problems.append(
                    f"{quota.code}: backup {b.position} called before {skipped[0].position}"
                )
        for row in quota.drawn.filter(status=DrawnStatus.REPLACED):
            if row.replaced_by is None or row.replaced_by.quota_id != quota.pk:
                problems.append(f"{quota.code}: seat {row.seat} replaced outside its quota")
    replaced = DrawnExpert.objects.filter(draw=draw, status=DrawnStatus.REPLACED).count()
    logged = Event.objects.filter(
        subject=f"expert-draw:{draw.public_id}", event_type="experts.draw_replaced"
    ).count()
    if replaced != logged:
        problems.append(f"{replaced} seats replaced, {logged} replacement events")
    checks.add(
        "replacements",
        not problems,
        "; ".join(problems) or "backups taken in order, each in the ledger",
    )


def verify_draw(draw: Draw, *, identities: bool = False) -> dict[str, Any]:
    """The verification report (``ok`` and each check). ``identities``: also name the experts
    (expert public ids) examined — only for an auditor, only once the draw is revealed."""
    checks = _Checks()
    report: dict[str, Any] = {
        "draw": draw.public_id,
        "status": draw.status,
        "commit_seq": draw.commit_seq,
        "tree_size": draw.tree_size,
        "tree_root": draw.tree_root,
        "quotas": [],
    }
    if draw.status in (DrawStatus.REQUESTED, DrawStatus.COMMITTED) or not draw.sealed_inputs:
        checks.add("drawn", False, "the draw has not been drawn")
        return report | {"ok": False, "checks": checks.items}
    events = _events(draw)
    terms = _ledger_checks(draw, checks, events)
    secret, source = _secret(draw, events)
    report["secret"] = source
    if secret is None or not checks.add(
        "secret_matches_commitment",
        hashlib.sha256(secret).hexdigest() == draw.commitment,
        f"SHA-256 of the {source} secret is the commitment",
    ):
        return report | {"ok": False, "checks": checks.items}
    seed = draw_seed(secret, draw.tree_root, draw.public_id)
    report["seed"] = seed.hex() if source == "revealed" else None
    body, record = unseal_inputs(draw)
    published = _payload(events.get("experts.draw_drawn") or events.get("experts.draw_unfillable"))
    digest = hashlib.sha256(body).hexdigest()
    checks.add(
        "inputs_digest",
        digest == draw.inputs_sha256 == published.get("inputs_sha256")
        and record.get("draw") == draw.public_id
        and record.get("commitment") == draw.commitment
        and record.get("tree_root") == draw.tree_root
        and record.get("tree_size") == draw.tree_size,
        f"the sealed inputs hash to the published {digest[:16]}…",
    )
    checks.add("terms", _terms_match(record, terms), "the inputs follow the committed terms")
    _published_checks(draw, checks, events)
    _replay(draw, record, seed, checks, report, identities=identities)
    _replacement_check(draw, checks, events)
    _answers_check(draw, checks)
    report["ok"] = checks.ok
    report["checks"] = checks.items
    return report


def _terms_match(record: dict[str, Any], terms: dict[str, Any]) -> bool:
    mine = [(q["quota"], q["count"], q["backups"], q["min_other"]) for q in record["quotas"]]
    theirs = [
        (q["quota"], q["count"], q["backups"], q["min_other_regions"])
        for q in terms.get("quotas", [])
    ]
    regions = terms.get("regions", {})
    rec = record["regions"]
    return (
        mine == theirs
        and record["day"] == terms.get("evaluation_date")
        and rec["other_only"] == regions.get("other_only")
        and set(regions.get("exclude", [])) <= set(rec["exclude"])
        and (not regions.get("include") or set(regions["include"]) <= set(rec["include"] or []))
        and regions.get("home") in rec["home"]
    )


def _replay(
    draw: Draw,
    record: dict[str, Any],
    seed: bytes,
    checks: _Checks,
    report: dict[str, Any],
    *,
    identities: bool,
) -> None:
    strata = {stratum_key(s): s for q in record["quotas"] for s in q["strata"]}
    specs = [
        QuotaSpec(q["quota"], q["specialties"], q["count"], q["backups"], q["min_other"])
        for q in record["quotas"]
    ]
    regions = record["regions"]
    rule = RegionRule(
        regions["include"], regions["exclude"], regions["home"], regions["other_only"]
    )
    parties = Parties.from_record(record["parties"])

    def source(spec: Any) -> RecordSource:
        key = stratum_key(spec)
        if key not in strata:
            raise RecordMismatch(f"the record has no stratum {key}")
        return RecordSource(strata[key])

    try:
        outcome = run_draw(seed, specs, rule, parties, source)
    except RecordMismatch as exc:
        checks.add("selection", False, str(exc))
        return
    same_log = all(
        canonical_json(s.as_record()) == canonical_json(strata[stratum_key(s.spec)])
        for q in outcome
        for s in q.strata
    )
    checks.add(
        "candidates", same_log, "every candidate examined, and why it was skipped, as recorded"
    )
    recorded = _drawn_rows(draw)
    filled = all(q.filled for q in outcome)
    if draw.unfillable and not recorded:  # unfillable at the draw: no one drawn
        expected_codes = sorted(q.spec.code for q in outcome if not q.filled)
        listed = sorted({q["quota"] for q in (draw.unfillable or {}).get("quotas", [])})
        checks.add(
            "selection",
            not filled and expected_codes == listed,
            f"unfillable quotas {', '.join(expected_codes) or '-'} as recorded",
        )
    else:
        mismatches = []
        for q in outcome:
            expected = [(e, role, bool(other)) for e, role, other in q.picks()]
            got = [(e, role, other) for e, role, other, _ in recorded.get(q.spec.code, [])]
            if expected != got:
                mismatches.append(q.spec.code)
        checks.add(
            "selection",
            filled and not mismatches,
            "the same experts, in the same order and regions, as recorded"
            if not mismatches
            else f"quota(s) {', '.join(mismatches)} differ",
        )
    # who was examined only once revealed at the session (an unfillable draw's secret is public
    # at once, so that it can be verified, but not whom it examined: R17)
    show = identities and draw.revealed_at is not None and clock.now() >= draw.session_at
    names = _names(outcome) if show else {}
    for q in outcome:
        rows = {row.position: row for _, _, _, row in recorded.get(q.spec.code, [])}
        entry: dict[str, Any] = {
            "quota": q.spec.code,
            "strata": [_stratum_summary(s, names) for s in q.strata],
            "drawn": [
                {
                    "position": n,
                    "role": role,
                    "pseudonym": rows[n].pseudonym if n in rows else None,
                    "status": rows[n].status if n in rows else None,
                    **({"expert": names.get(e)} if show else {}),
                }
                for n, (e, role, _) in enumerate(q.picks())
            ],
        }
        report["quotas"].append(entry)


def _names(outcome: list[Any]) -> dict[int, str]:
    from ggzy.experts.models import Expert

    ids = {c["id"] for q in outcome for s in q.strata for c in s.candidates()}
    return dict(Expert.objects.filter(pk__in=ids).values_list("pk", "public_id"))


def _stratum_summary(s: Any, names: dict[int, str]) -> dict[str, Any]:
    part = s.list_part if s.list_part is not None else s.ids_part
    skipped: dict[str, int] = {}
    for c in s.candidates():
        for r in c["reasons"]:
            skipped[r] = skipped.get(r, 0) + 1
    out: dict[str, Any] = {
        "stratum": s.spec.name,
        "method": "list" if s.list_part is not None else "ids",
        "fell_back": s.ids_part is not None and s.list_part is not None,
        "need": s.spec.need,
        "examined": len(s.candidates()),
        "skipped": skipped,
        "candidates_listed": part.get("n") if part else None,
        "id_space": (s.ids_part or {}).get("m"),
        "probes": (s.ids_part or {}).get("probes"),
    }
    if names:
        out["avoided"] = [
            {"expert": names.get(c["id"]), "reasons": c["reasons"]}
            for c in s.candidates()
            if c["reasons"]
        ]
    return out
