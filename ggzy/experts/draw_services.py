"""The expert draw (专家抽取): request and commit, draw, answers and replacements, the reveal.

``request_draw`` stores the terms and commits the platform's secret (``experts.draw_committed``,
the SHA-256 of the secret, never the secret), waits for the first signed tree head that includes
that event, derives the seed from the secret, the head's root and the draw id, and draws
(``draw_select``) — writing the sealed inputs, one sealed row per expert drawn, one notification
per main and ``experts.draw_drawn`` (counts and pseudonyms only). A draw that cannot be filled
draws no one: ``experts.draw_unfillable`` names, per quota, what was needed, how many were
eligible and the binding constraint, the secret is published at once (who was examined only
after the session start), and the caller gets
``draw_unfillable``.

An expert confirms or declines their own invitation; a decline or an answer not given in time
(``GGZY_DRAW_ANSWER_MINUTES``) is replaced by the next backup of the same quota, each step a
ledger event; when a quota's backups run out the draw becomes ``unfillable`` for it and staff top
it up with a further draw. ``reveal_draw`` at the session start publishes the secret and lets
staff see who was drawn (R17).
"""

from __future__ import annotations

import hashlib
import secrets
import zlib
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from ggzy.accounts.gate import require
from ggzy.core import clock
from ggzy.core.errors import Conflict
from ggzy.experts import draw_pool, draw_seal
from ggzy.experts.draw_models import Draw, DrawnExpert, DrawQuota
from ggzy.experts.draw_record import (
    SYSTEM,
    event,
    inputs_record,
    refuse,
    secret_of,
    subject,
    unfillable_detail,
    write_drawn,
)
from ggzy.experts.draw_select import QuotaSpec, RegionRule, draw_seed, run_draw, strata_of
from ggzy.experts.draw_states import DrawStatus
from ggzy.experts.draw_validation import (
    MAX_AVOID_DAYS,
    QuotaTerms,
    check_section,
    quota_terms,
    regions,
)
from ggzy.ledger.append import event_for_entry, plain
from ggzy.ledger.chain import canonical_json
from ggzy.ledger.models import Event, TreeHead
from ggzy.ledger.services import chain_pending, ledger_mode, record_refusal, sign_tree_head
from ggzy.tendering.models import Section

__all__ = ["DrawUnfillable", "QuotaTerms", "perform_draw", "request_draw"]


MAX_LEAD_DAYS = 366  # how far ahead a session may be drawn for


class DrawUnfillable(Conflict):
    code = "draw_unfillable"


def request_draw(
    *,
    actor: Any,
    section: Section,
    session_at: datetime,
    quotas: list[QuotaTerms],
    include_regions: list[str] | None = None,
    exclude_regions: list[str] | None = None,
    other_regions_only: bool = False,
    home_region: str = "",
    avoid_days: int | None = None,
    tops_up: Draw | None = None,
) -> Draw:
    """Request, commit and perform a draw (see the module docstring)."""
    require(actor, "experts.draw")
    if timezone.is_naive(session_at):
        raise refuse("评标时间须带时区 (timezone required)", "bad_session_at", "session_at")
    if session_at <= clock.now():
        raise refuse("评标时间已过 (the session time has passed)", "session_in_past", "session_at")
    if session_at > clock.now() + timedelta(days=MAX_LEAD_DAYS):
        raise refuse(
            f"评标时间须在{MAX_LEAD_DAYS}日内 (the session is too far ahead)",
            "bad_session_at",
            "session_at",
        )
    chosen = quota_terms(quotas)
    include = regions(include_regions or [], "include_regions")
    exclude = regions(exclude_regions or [], "exclude_regions")
    if set(include) & set(exclude):
        raise refuse(
            "同一地区既限定又排除 (a region both included and excluded)",
            "region_conflict",
            "exclude_regions",
        )
    home = regions([home_region], "home_region")[0] if home_region else section.project.region_id
    days = settings.GGZY_DRAW_AVOID_DAYS if avoid_days is None else avoid_days
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_AVOID_DAYS:
        raise refuse(f"回避期应为0–{MAX_AVOID_DAYS}日", "bad_avoid_days", "avoid_days")
    if tops_up is not None and tops_up.section_id != section.pk:
        raise refuse(
            "补抽须针对同一标段 (a top-up is for the same section)", "not_same_section", "tops_up"
        )
    check_section(section)
    now = clock.now()
    secret = secrets.token_bytes(32)
    try:
        with transaction.atomic():
            Section.objects.select_for_update().filter(pk=section.pk).first()  # one at a time
            _check_chain(section, tops_up)
            draw, rows, ref = _commit(actor, section, tops_up, session_at, secret, now,
                                      chosen, include, exclude, other_regions_only, home, days)  # fmt: skip
    except Conflict as exc:
        if exc.code in ("draw_exists", "nothing_to_top_up"):
            record_refusal(actor=actor, event_type="experts.draw_refused",
                           subject=f"section:{section.public_id}", reason=exc.code,
                           **exc.detail)  # fmt: skip
        raise
    return perform_draw(draw, actor=actor, seq=_chained(ref), quotas=rows)


def _check_chain(section: Section, tops_up: Draw | None) -> None:
    """One original draw per section (under the section's lock): a further original draw only
    after one that drew no one; a top-up only for a draw that is unfillable."""
    if tops_up is None:
        drew_someone = DrawnExpert.objects.filter(draw=OuterRef("pk"))
        open_draw = (
            Draw.objects.filter(section=section, tops_up__isnull=True)
            .filter(~Q(status=DrawStatus.UNFILLABLE) | Exists(drew_someone))
            .order_by("requested_at", "pk")
            .first()
        )
        if open_draw is not None:
            raise Conflict(
                "该标段已有专家抽取，人数不足时请补抽 (the section has a draw: top it up)",
                code="draw_exists",
                detail={"draw": open_draw.public_id, "status": open_draw.status},
            )
        return
    current = Draw.objects.get(pk=tops_up.pk)
    if current.status != DrawStatus.UNFILLABLE:
        raise Conflict(
            "该抽取无需补抽 (the draw is not short of experts)",
            code="nothing_to_top_up",
            detail={"draw": current.public_id, "status": current.status},
        )


def _commit(
    actor: Any,
    section: Section,
    tops_up: Draw | None,
    session_at: datetime,
    secret: bytes,
    now: datetime,
    chosen: list[Any],
    include: list[str],
    exclude: list[str],
    other_regions_only: bool,
    home: str,
    days: int,
) -> tuple[Draw, list[DrawQuota], int]:
    """The draw row, its quotas and the commitment event (inside the caller's transaction)."""
    draw = Draw.objects.create(
        public_id=secrets.token_hex(16),
        section=section,
        tops_up=tops_up,
        session_at=session_at,
        evaluation_date=timezone.localtime(session_at, clock.CHINA).date(),
        include_regions=include,
        exclude_regions=exclude,
        other_regions_only=bool(other_regions_only),
        home_region_id=home,
        avoid_days=days,
        requested_by=actor,
        requested_at=now,
    )
    rows = DrawQuota.objects.bulk_create(
        [
            DrawQuota(
                draw=draw,
                position=n,
                specialty=s,
                code=s.code,
                count=q.count,
                backups=q.backups,
                min_other=q.min_other_regions,
            )
            for n, (q, s) in enumerate(chosen)
        ]
    )
    draw.commitment = hashlib.sha256(secret).hexdigest()
    draw.sealed_secret = draw_seal.seal("secret", draw.public_id, secret.hex())
    ref = event(actor, draw, "experts.draw_committed", committed_payload(draw, rows))
    draw.status, draw.committed_at = DrawStatus.COMMITTED, now
    draw.save(update_fields=["commitment", "sealed_secret", "status", "committed_at"])
    return draw, rows, ref


def committed_payload(draw: Draw, quotas: list[DrawQuota] | None = None) -> dict[str, Any]:
    """The public terms of a draw, with the commitment (what ``draw_verify`` replays against)."""
    return {
        "section": draw.section.code or draw.section.label,
        "tops_up": draw.tops_up.public_id if draw.tops_up_id and draw.tops_up else None,
        "session_at": draw.session_at.isoformat(),
        "evaluation_date": draw.evaluation_date.isoformat(),
        "quotas": [
            {
                "quota": q.code,
                "count": q.count,
                "backups": q.backups,
                "min_other_regions": q.min_other,
            }
            for q in (quotas if quotas is not None else draw.quotas.order_by("position"))
        ],
        "regions": {
            "include": draw.include_regions,
            "exclude": draw.exclude_regions,
            "other_only": draw.other_regions_only,
            "home": draw.home_region_id,
        },
        "avoid_days": draw.avoid_days,
        "commitment": draw.commitment,
        "commitment_alg": "sha256",
    }


def _chained(ref: int) -> int:
    """The sequence number of an appended event (deferred mode: once it is chained)."""
    if ledger_mode() != "deferred":
        return ref
    event = event_for_entry(ref)  # chained after the commit already, as a rule
    if event is None:
        chain_pending(ref)
        event = event_for_entry(ref)
    if event is None:  # pragma: no cover - chain_pending chains everything committed
        raise Conflict(
            "账本尚未记入承诺事件 (the commitment is not chained yet)", code="commitment_pending"
        )
    return event.seq


def covering_head(seq: int) -> TreeHead:
    """The first signed tree head that includes event ``seq`` (signing one if none does yet)."""
    signed = sign_tree_head(min_size=seq)
    if signed is not None and signed.size == seq:
        return signed  # nothing smaller can include the event
    head: TreeHead | None = TreeHead.objects.filter(size__gte=seq).order_by("size").first()
    if head is None:  # pragma: no cover - sign_tree_head just signed one
        raise Conflict("没有覆盖承诺事件的签名树头 (no signed tree head)", code="no_tree_head")
    return head


# --- the draw itself ----------------------------------------------------------------------------


def draw_terms(draw: Draw, quotas: list[DrawQuota]) -> tuple[RegionRule, list[QuotaSpec]]:
    """The draw's region terms with every region expanded to its subtree, and its quotas with
    every specialty expanded to its sub-specialties (one query)."""
    regions, specialties = draw_pool.subtrees(
        [*draw.include_regions, *draw.exclude_regions, draw.home_region_id],
        [q.code for q in quotas],
    )

    def expand(codes: list[str]) -> list[str]:
        return sorted(set().union(*(regions.get(c, {c}) for c in codes))) if codes else []

    rule = RegionRule(
        include=expand(draw.include_regions) if draw.include_regions else None,
        exclude=expand(draw.exclude_regions),
        home=expand([draw.home_region_id]),
        other_only=draw.other_regions_only,
    )
    specs = [
        QuotaSpec(q.code, specialties[q.code], q.count, q.backups, q.min_other) for q in quotas
    ]
    return rule, specs


def _commit_seq(draw: Draw) -> int | None:
    event = (
        Event.objects.filter(subject=subject(draw), event_type="experts.draw_committed")
        .values_list("seq", flat=True)
        .first()
    )
    return int(event) if event is not None else None


def perform_draw(
    draw: Draw,
    *,
    actor: Any = SYSTEM,
    batch: int = 0,
    seq: int | None = None,
    quotas: list[DrawQuota] | None = None,
) -> Draw:
    """Draw a committed draw (idempotent: a draw already drawn is returned as it is; a draw whose
    process stopped after the commitment is drawn by calling this again)."""
    if draw.status != DrawStatus.COMMITTED:
        return draw
    seq = seq or draw.commit_seq or _commit_seq(draw)
    if seq is None:
        raise Conflict(
            "账本尚未记入承诺事件 (the commitment is not chained yet)", code="commitment_pending"
        )
    head = covering_head(seq)
    with transaction.atomic():
        if (
            connection.vendor == "postgresql"
        ):  # small index reads: parallel workers only add latency
            with connection.cursor() as cur:
                cur.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        draw = Draw.objects.select_for_update().select_related("section__project").get(pk=draw.pk)
        if draw.status != DrawStatus.COMMITTED:
            return draw
        draw.commit_seq = seq
        now = clock.now()
        secret = secret_of(draw)
        seed = draw_seed(secret, head.root, draw.public_id)
        project, day = draw.section.project, draw.evaluation_date
        parties, reps = draw_pool.parties_of(draw.section_id, project.tenderer_id, project.agent_id)
        served, previous = draw_pool.drawn_before(draw, project.tenderer_id, day)
        ctx = draw_pool.PoolContext(
            day=day, parties=parties, reps=reps, served=served, previous=previous
        )
        quotas = quotas or list(draw.quotas.order_by("position"))
        rule, specs = draw_terms(draw, quotas)
        strata = [s for q in specs for s in strata_of(q, rule)]
        ctx.prepare(strata)  # each stratum's way, and the largest expert id
        ctx.prefetch(seed, strata)  # and the start of every stratum, in one more round trip
        outcome = run_draw(
            seed, specs, rule, parties, lambda spec: draw_pool.PoolSource(ctx, spec), batch=batch
        )
        record = inputs_record(draw, head, ctx, rule, outcome)
        body = canonical_json(plain(record))
        draw.inputs_sha256 = hashlib.sha256(body).hexdigest()
        draw.sealed_inputs = draw_seal.seal_bytes("inputs", draw.public_id, zlib.compress(body, 1))
        draw.tree_size, draw.tree_root, draw.drawn_at = head.size, head.root, now
        common = {
            "tree_size": head.size,
            "tree_root": head.root,
            "commit_seq": draw.commit_seq,
            "inputs_sha256": draw.inputs_sha256,
        }
        if all(q.filled for q in outcome):
            rows = write_drawn(draw, quotas, outcome, now)
            draw.status = DrawStatus.DRAWN
            draw.save()
            event(
                actor,
                draw,
                "experts.draw_drawn",
                common
                | {
                    "quotas": [
                        {"quota": q.spec.code, "mains": q.spec.count, "backups": q.spec.backups}
                        for q in outcome
                    ],
                    "drawn": [
                        {
                            "quota": r.quota.code,
                            "position": r.position,
                            "role": r.role,
                            "pseudonym": r.pseudonym,
                        }
                        for r in rows
                    ],
                },
            )
            return draw
        detail = unfillable_detail(outcome, draw.evaluation_date)
        draw.status, draw.unfillable = DrawStatus.UNFILLABLE, detail
        # the secret is public at once (so the draw can be verified); whom it examined is not
        # shown before the session (``revealed_at`` is the reveal's, R17)
        draw.revealed_secret = secret.hex()
        draw.save()
        event(actor, draw, "experts.draw_unfillable", common | detail | {"secret": secret.hex()})
    raise DrawUnfillable(
        "无法抽满："
        + "；".join(
            f"{q['quota']} 需{q['needed']}人，符合条件{q['eligible']}人（受限于 {q['binding']}）"
            for q in detail["quotas"]
        )
        + " (the draw cannot be filled)",
        detail={"draw": draw.public_id, **detail},
    )
