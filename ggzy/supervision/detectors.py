"""The detectors: each reads one section's (or the whole market's) data, runs the pure analysis
of its module, and raises the alerts its findings call for, with their evidence.

* ``screens`` — the bid-price screens of the opened prices (:mod:`ggzy.supervision.screens`):
  an alert when the combined risk score and the number of flagged screens reach the
  ``alerting`` thresholds.
* ``hardlinks`` — 条例40's identity links and 条例34's related bidders
  (:mod:`ggzy.supervision.hardlinks`) among the opened bids: one alert per kind of link and
  group of bidders. Read after the opening only, when the bids' sealed identities may be
  opened: the authoring machine from each envelope's signed manifest (``machine``, written by
  the bidder's client), the upload address and the submitting user from the sealed identity,
  the deposit's payer account, the entity's legal representative and contact persons. The
  project manager and the bidders' controllers are not captured by the platform yet.
* ``toolbox`` — Kunming's toolbox on a signed evaluation (:mod:`ggzy.supervision.toolbox`): an
  expert whose scores deviate from the others' trimmed consensus or who orders two bidders
  against it on the total (the "红色大于号"), an expert much quicker than the committee's median
  (the documents' viewing time), and expert disagreement concentrated on the first candidate.
  Bid-document richness (标书丰富度) needs a richness measure of the documents that the platform
  does not compute yet.
* ``similarity`` — the opened bids' decrypted parts (all but the opening form ``bid.json``),
  as text, compared pairwise after removing what the tender documents say
  (:mod:`ggzy.supervision.similarity`): copied passages, the same file authors, another
  bidder's name inside a file.
* ``redflags`` (nightly, market-wide) — the OCP red flags over the platform's own OCDS output.
* ``network`` (nightly, market-wide) — co-bidding groups among the platform's opened bids.
* ``watchlist`` — the opened bids' bidders and the committee's members against the watchlist
  (:mod:`ggzy.supervision.watchlist`; sign-ins are checked as they happen).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl

from ggzy.award.periods import regime_of
from ggzy.award.states import Regime
from ggzy.bidding.models import Bid
from ggzy.supervision import hardlinks, screens, services, similarity, thresholds, toolbox
from ggzy.supervision.models import Alert, AlertKind
from ggzy.tendering.models import Section

Raised = tuple[Alert, bool, bool]


def _finite(value: Any) -> float | None:
    return None if value is None else round(float(value), 6)


def screens_detector(section: Section, bids: list[Bid]) -> list[Raised]:
    priced = [b for b in bids if b.price is not None and b.price > 0]
    if len(priced) < 3:  # R15: fewer than three bids are not opened; two prices say nothing
        return []
    limits = thresholds.current("screens")
    alerting = thresholds.current("alerting")
    frame = pl.DataFrame({"tender_id": [section.public_id] * len(priced),
                          "amount": [float(b.price) for b in priced]})  # type: ignore[arg-type]  # fmt: skip
    row = screens.screen_all(frame, limits, engine="in-memory").row(0, named=True)
    score, flagged = row.get("risk_score"), int(row.get("screens_flagged") or 0)
    if (
        score is None
        or score < alerting.screens_min_score
        or flagged < alerting.screens_min_flagged
    ):
        return []
    values = {s: _finite(row.get(s)) for s in screens.SCREENS}
    flags = [s for s in screens.SCREENS if row.get(f"{s}_flag")]
    evidence = {
        "section": section.public_id, "section_code": section.code,
        "screens": values, "flagged": flags, "risk_score": _finite(score),
        "screens_defined": row.get("screens_defined"), "screens_flagged": flagged,
        "thresholds": limits.as_dict(),
        "bids": [{"bidder": b.entity.name if b.entity else "", "uscc":
                  b.entity.uscc if b.entity else "", "price": str(b.price)} for b in priced],
    }  # fmt: skip
    title = (f"{section.project.name} {section.name}：报价统计筛查风险分 {score:.0f}"
             f"（{flagged} 项指标异常：{'、'.join(f.upper() for f in flags)}）")  # fmt: skip
    return [services.raise_alert(
        kind=AlertKind.SCREENS, code="SCREENS", key=f"screens:{section.public_id}",
        title=title, evidence=evidence, section=section, score=float(score),
        rule="招标投标法实施条例第四十条第（四）项（报价呈规律性差异）",
    )]  # fmt: skip


def _identity(bid: Bid, deposits: dict[int, str]) -> hardlinks.BidIdentity | None:
    from ggzy.accounts.models import User
    from ggzy.bidding import register
    from ggzy.bidding.bids import bid_path
    from ggzy_client.envelope import EnvelopeError, read_envelope

    entity = bid.entity
    if entity is None:
        return None
    machine: dict[str, Any] = {}
    try:
        machine = dict(read_envelope(bid_path(bid)).manifest.get("machine") or {})
    except (OSError, EnvelopeError, ValueError):
        machine = {}  # a damaged or missing file: its opening says so; no machine to compare
    sealed = register.unseal("bid", "bids", bid.sealed_identity)
    user_pk = sealed.get("user")
    user = User.objects.filter(pk=user_pk).only("resident_id").first() if user_pk else None
    agent = (user.resident_id or f"user:{user.pk}") if user else ""
    contacts = [c for pair in entity.contacts.values_list("phone", "email") for c in pair if c]
    return hardlinks.BidIdentity(
        bidder_id=entity.uscc, **hardlinks.machine_fields(machine),
        upload_ips=(sealed.get("addr") or "",), agents=(agent,),
        deposit_accounts=(deposits.get(entity.pk, ""),), contacts=tuple(contacts),
        legal_representative_id=entity.legal_representative_id or None,
    )  # fmt: skip


LINK_LABELS = {
    "machine": "同一台电脑编制（CPU、网卡、硬盘一致）", "same_cpu": "相同CPU标识",
    "same_mac": "相同网卡MAC地址", "same_disk": "相同硬盘序列号", "upload_ip": "相同上传IP地址",
    "deposit_account": "保证金从同一账户转出", "agent": "同一人办理投标",
    "project_manager": "同一项目负责人", "contact": "同一联系人", "legal_representative":
    "同一法定代表人", "control": "控股或管理关系", "common_controller": "受同一主体控制",
}  # fmt: skip


def hardlinks_detector(section: Section, bids: list[Bid]) -> list[Raised]:
    from ggzy.bidding.models import Deposit

    deposits = dict(Deposit.objects.filter(section=section).exclude(payer_account="")
                    .values_list("entity_id", "payer_account"))  # fmt: skip
    identities = [i for i in (_identity(b, deposits) for b in bids) if i is not None]
    if len({i.bidder_id for i in identities}) < 2:
        return []
    names = {b.entity.uscc: b.entity.name for b in bids if b.entity}
    procurement = regime_of(section.project.ruleset.rules or {}) == Regime.PROCUREMENT
    links = hardlinks.hard_links(
        identities, hardlinks.HardLinkSettings(government_procurement=procurement)
    )
    out = []
    for link in links:
        who = "、".join(names.get(b, b) for b in link.bidders)
        strength = "硬关联" if link.strength == hardlinks.Strength.HARD else "疑似关联"
        void = "（依法所有投标无效）" if link.voids_bids else ""
        kind = AlertKind.RELATED if link.kind in ("legal_representative", "control",
                                                  "common_controller") else AlertKind.HARDLINK  # fmt: skip
        evidence = {"section": section.public_id, "section_code": section.code,
                    "links": [{"kind": link.kind, "rule": link.rule, "bidders": list(link.bidders),
                               "names": [names.get(b, b) for b in link.bidders],
                               "value": link.value, "strength": str(link.strength),
                               "voids_bids": link.voids_bids}]}  # fmt: skip
        out.append(services.raise_alert(
            kind=kind, code=f"LINK-{link.kind}".upper()[:32],
            key=f"link:{section.public_id}:{link.kind}:{','.join(link.bidders)}"[:200],
            title=f"{section.project.name} {section.name}：{strength}，"
                  f"{LINK_LABELS.get(link.kind, link.kind)} — {who}{void}",
            evidence=evidence, section=section, rule=link.rule,
            score=100.0 if link.strength == hardlinks.Strength.HARD else 50.0,
        ))  # fmt: skip
    return out


def toolbox_detector(section: Section, bids: list[Bid]) -> list[Raised]:
    from ggzy.award.models import Candidate
    from ggzy.evaluation import config
    from ggzy.evaluation.models import EvaluationSession, Score, ViewingSpan

    session = EvaluationSession.objects.filter(section=section, signed_at__isnull=False).first()
    if session is None:
        return []
    maxima = {c.id: float(c.max_points) for c in config.scheme(session.scheme).criteria
              if c.max_points > 0}  # fmt: skip
    members = {m.pk: m for m in session.members.all()}
    scores = [toolbox.ScoreRow(expert_id=str(s.member_id), bidder_id=s.bid.entity.uscc,
                               item_id=s.criterion, score=float(s.points),
                               item_max=maxima[s.criterion])
              for s in Score.objects.filter(session=session).select_related("bid__entity")
              if s.criterion in maxima]  # fmt: skip
    names = {b.entity.uscc: b.entity.name for b in session.bids.select_related("entity")}
    who = {str(pk): m.name for pk, m in members.items()}
    title = f"{section.project.name} {section.name}"
    out: list[Raised] = []
    if scores:
        result = toolbox.score_deviation(scores)
        by_expert: dict[str, dict[str, Any]] = {}
        for d in result.deviations:
            if d.flagged:
                by_expert.setdefault(d.expert_id, {"deviations": [], "inversions": []})[
                    "deviations"].append({"bidder": names.get(d.bidder_id, d.bidder_id),
                                          "item": d.item_id, "score": d.score,
                                          "consensus": round(d.consensus, 4),
                                          "deviation": round(d.deviation, 4)})  # fmt: skip
        for i in result.inversions:
            if i.decisive:
                by_expert.setdefault(i.expert_id, {"deviations": [], "inversions": []})[
                    "inversions"].append({"item": i.item_id, "higher": names.get(i.higher, i.higher),
                                          "lower": names.get(i.lower, i.lower),
                                          "expert_scores": list(i.expert_scores),
                                          "consensus_scores": [round(v, 4) for v in
                                                               i.consensus_scores]})  # fmt: skip
        for expert, found in sorted(by_expert.items()):
            mark = "（红色大于号）" if found["inversions"] else ""
            out.append(services.raise_alert(
                kind=AlertKind.TOOLBOX, code="EXPERT-SCORE",
                key=f"toolbox:score:{session.public_id}:{expert}",
                title=f"{title}：专家 {who.get(expert, expert)} 打分偏离{mark}",
                evidence={"section": section.public_id, "expert": who.get(expert, expert),
                          "threshold": 0.2, **found},
                section=section, rule="昆明“4+1”专家打分偏离度",
                score=100.0 if found["inversions"] else 60.0,
            ))  # fmt: skip
        first = Candidate.objects.filter(publicity__section=section, rank=1).first()
        winner = first.entity.uscc if first and first.entity.uscc in names else None
        spread = toolbox.bidder_score_deviation(toolbox.expert_totals(scores), winner_id=winner)
        if spread.concentrated_on_winner:
            out.append(services.raise_alert(
                kind=AlertKind.TOOLBOX, code="BIDDER-SCORE",
                key=f"toolbox:bidder:{session.public_id}",
                title=f"{title}：专家对第一中标候选人的评分分歧异常集中",
                evidence={"section": section.public_id, "winner": names.get(winner or "", ""),
                          "others_median_cv": spread.others_median_cv,
                          "bidders": [{"bidder": names.get(b.bidder_id, b.bidder_id),
                                       "totals": list(b.totals), "cv": b.cv}
                                      for b in spread.bidders]},
                section=section, rule="昆明“4+1”投标人得分偏离度", score=70.0,
            ))  # fmt: skip
    spans = ViewingSpan.objects.filter(session=session)
    times = [toolbox.ExpertTime(expert_id=str(s.member_id), seconds=s.seconds) for s in spans]
    for t in toolbox.evaluation_time_deviation(times):
        if t.flagged:
            out.append(services.raise_alert(
                kind=AlertKind.TOOLBOX, code="EXPERT-TIME",
                key=f"toolbox:time:{session.public_id}:{t.expert_id}",
                title=f"{title}：专家 {who.get(t.expert_id, t.expert_id)} 评标用时明显偏短",
                evidence={"section": section.public_id, "expert": who.get(t.expert_id, ""),
                          "seconds": t.seconds, "median": t.median,
                          "deviation": None if t.deviation is None else round(t.deviation, 4)},
                section=section, rule="昆明“4+1”专家评标时长偏离度", score=50.0,
            ))  # fmt: skip
    return out


BID_FORM = "bid.json"  # the opening form of a bid envelope: prices, not prose


def _file_metadata(path: Any) -> dict[str, object]:
    """Authoring metadata of a .docx (core properties) or a .pdf (document info); {} else."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".docx":
            import docx

            props = docx.Document(str(path)).core_properties
            return {"author": props.author or "", "last_saver": props.last_modified_by or "",
                    "created": props.created, "modified": props.modified}  # fmt: skip
        if suffix == ".pdf":
            from pypdf import PdfReader

            info: Any = PdfReader(str(path)).metadata or {}
            return {"author": str(info.get("/Author", "") or ""),
                    "template": str(info.get("/Creator", "") or "")}  # fmt: skip
    except Exception:  # a damaged file has no metadata to compare, its text says the rest
        return {}
    return {}


def _bid_text(bid: Bid) -> similarity.BidText | None:
    """The decrypted parts of an opened bid (all but the opening form), as text."""
    from ggzy.bidding.opening import opened_dir
    from ggzy.core.errors import DomainError
    from ggzy.fairness.extract import extract_text

    folder = opened_dir(bid)
    if bid.entity is None or not folder.is_dir():
        return None
    texts: list[str] = []
    metadata: dict[str, object] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != BID_FORM):
        try:
            texts.append(extract_text(path, path.suffix))
        except (DomainError, OSError, MemoryError):
            continue
        metadata = metadata or _file_metadata(path)
    return similarity.BidText(text="\n".join(t for t in texts if t), metadata=metadata,
                              name=bid.entity.name)  # fmt: skip


def similarity_detector(section: Section, bids: list[Bid]) -> list[Raised]:
    from ggzy.tendering.models import TenderDocument

    texts = {b.entity.uscc: t for b in bids if b.entity and (t := _bid_text(b)) is not None}
    if len(texts) < 2:
        return []
    tender = "\n".join(TenderDocument.objects.filter(project=section.project)
                       .values_list("text", flat=True))  # fmt: skip
    names = {b.entity.uscc: b.entity.name for b in bids if b.entity}
    out = []
    for pair in similarity.compare_bids(tender, texts):
        who = (
            f"{names.get(pair.bidder_a, pair.bidder_a)}、{names.get(pair.bidder_b, pair.bidder_b)}"
        )
        what = []
        if pair.text_similar:
            what.append(f"文本雷同（Jaccard {pair.jaccard:.2f}，包含度 {pair.containment:.2f}）")
        if pair.metadata_matches:
            what.append("文件属性相同：" + "、".join(m.field for m in pair.metadata_matches))
        if pair.mentions:
            what.append("文件中出现其他投标人名称（相互混装）")
        evidence = {
            "section": section.public_id, "bidders": [pair.bidder_a, pair.bidder_b],
            "names": [names.get(pair.bidder_a, ""), names.get(pair.bidder_b, "")],
            "jaccard": round(pair.jaccard, 4), "containment": round(pair.containment, 4),
            "shared_shingles": pair.shared_shingles, "snippets": list(pair.snippets),
            "metadata": [{"field": m.field, "value": m.value} for m in pair.metadata_matches],
            "mentions": [list(m) for m in pair.mentions],
        }  # fmt: skip
        out.append(services.raise_alert(
            kind=AlertKind.SIMILARITY, code="DOC-SIMILAR",
            key=f"similar:{section.public_id}:{pair.bidder_a}:{pair.bidder_b}"[:200],
            title=f"{section.project.name} {section.name}：投标文件异常一致 — {who}（{'；'.join(what)}）",
            evidence=evidence, section=section,
            rule="招标投标法实施条例第四十条第（一）（四）（五）项",
            score=round(100 * max(pair.jaccard, pair.containment), 1),
        ))  # fmt: skip
    return out


def watchlist_detector(section: Section, bids: list[Bid]) -> list[Raised]:
    from ggzy.supervision import watchlist

    return watchlist.section_detector(section, bids)


SECTION_DETECTORS: list[Callable[[Section, list[Bid]], list[Raised]]] = [
    screens_detector,
    hardlinks_detector,
    toolbox_detector,
    similarity_detector,
    watchlist_detector,
]
REDFLAG_TITLES = {
    "R003": "投标截止期过短",
    "R018": "仅一家投标",
    "R024": "次低报价与中标价过于接近",
    "R025": "投标人多次投标均未中标（陪标迹象）",
    "R028": "不同投标人报价相同",
    "R030": "迟交的投标中标",
    "R035": "除中标人外其余投标均被否决",
    "R036": "最低报价被否决",
    "R038": "否决投标比例过高",
    "R044": "投标人地址或联系方式相同",
    "R048": "供应商中标品类异常分散",
    "R058": "中标价大幅低于其他报价",
}


def redflags_detector() -> list[Raised]:
    """The OCP red flags over every disclosed procedure of the platform, as its OCDS output
    (:mod:`ggzy.exchange.ocds`) says it: the fences (Q1 − 1.5·IQR …) need the whole market, so
    this runs in the nightly pass."""
    from ggzy.core import clock
    from ggzy.core.errors import DomainError
    from ggzy.exchange.ocds import Process
    from ggzy.exchange.ocds_packages import MERGER, batches, section_public_id
    from ggzy.supervision import redflags

    now = clock.now()
    compiled = []
    for batch, loaded in batches(now=now):
        for row in batch:
            releases = Process(row, now, loaded).releases()
            if releases:
                compiled.append(MERGER.create_compiled_release(releases))
    if not compiled:
        return []
    frames = redflags.load_releases(compiled)
    flags = redflags.red_flags(frames, redflags.RedFlagSettings.for_platform())
    ids: dict[str, str] = {}
    for ocid in set(flags["ocid"].to_list()):
        try:
            ids[ocid] = section_public_id(ocid)
        except DomainError:
            continue
    sections = {s.public_id: s for s in Section.objects.filter(public_id__in=ids.values())
                .select_related("project")}  # fmt: skip
    out = []
    for flag in flags.iter_rows(named=True):
        section = sections.get(ids.get(flag["ocid"], ""))
        if section is None:
            continue
        code = flag["code"]
        evidence = {"ocid": flag["ocid"], "code": code, "value": flag["value"],
                    "tenderers": flag["tenderer_ids"] or [], "suppliers": flag["supplier_ids"] or [],
                    "buyer": flag["buyer_id"], "procuring_entity": flag["procuring_entity_id"]}  # fmt: skip
        out.append(services.raise_alert(
            kind=AlertKind.REDFLAG, code=code, key=f"redflag:{code}:{flag['ocid']}"[:200],
            title=f"{section.project.name} {section.name}：{code} {REDFLAG_TITLES.get(code, '')}",
            evidence=evidence, section=section, rule=f"OCP 红旗指标 {code}", score=60.0,
        ))  # fmt: skip
    return out


def network_detector() -> list[Raised]:
    """Co-bidding groups among the platform's opened bids (:mod:`ggzy.supervision.network`):
    one alert per suspicious group (cohesion, exclusivity, winner rotation)."""
    from ggzy.supervision import network, platform

    bids = platform.platform_bids()
    if bids.height == 0:
        return []
    report = network.analyse(bids)
    if "suspicious" not in report.groups.columns:
        return []
    names = dict(bids.select("bidder_id", "bidder_name").unique("bidder_id").iter_rows())
    out = []
    for group in report.groups.filter(report.groups["suspicious"]).iter_rows(named=True):
        members = report.members.filter(report.members["group_id"] == group["group_id"])
        member_ids = members["bidder_id"].to_list()
        who = "、".join(names.get(m, m) for m in member_ids[:6])
        evidence = {"group": {k: (list(v) if isinstance(v, list | tuple) else v)
                              for k, v in group.items()},
                    "members": [{k: (list(v) if isinstance(v, list | tuple) else v)
                                 for k, v in r.items()} for r in members.iter_rows(named=True)],
                    "names": {m: names.get(m, m) for m in member_ids}}  # fmt: skip
        out.append(services.raise_alert(
            kind=AlertKind.NETWORK, code="RING", key=f"network:{group['group_id']}",
            title=f"疑似围标团伙：{who}（共同投标 {group.get('tenders')} 次，轮流中标）",
            evidence=evidence, rule="招标投标法实施条例第三十九条、第四十条；OCP R053/R057",
            score=round(100 * float(group.get("score") or 0), 1),
        ))  # fmt: skip
    return out


MARKET_DETECTORS: list[Callable[[], list[Raised]]] = [redflags_detector, network_detector]


def run_section(section: Section, bids: list[Bid]) -> list[Raised]:
    out: list[Raised] = []
    for detector in SECTION_DETECTORS:
        out += detector(section, bids)
    return out


def run_market() -> list[Raised]:
    out: list[Raised] = []
    for detector in MARKET_DETECTORS:
        out += detector()
    return out
