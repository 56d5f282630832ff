"""An evaluation world: a section opened with a signed record (through the bidding services and
tests/bidding/world.py's sealing helpers), an expert pool with five experts whose person
certificates are bound to their accounts, and helpers to carry a session to a signed report.

Bidders have distinct legal representatives (the shared test registration has one for all,
which R48 would void); a test that wants related bidders says so.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from ggzy.accounts.models import User
from ggzy.accounts.roles import Role
from ggzy.accounts.services import create_user
from ggzy.bidding import bids, opening
from ggzy.bidding.models import Opening
from ggzy.catalog.services import install_default_catalog
from ggzy.core.identifiers import IdentifierError, make_resident_id, validate_uscc
from ggzy.evaluation import services, services_report, services_scoring
from ggzy.evaluation.models import EvaluationSession
from ggzy.experts import services as expert_services
from ggzy.experts.models import Expert, Specialty
from ggzy.registry.models import Entity
from ggzy.tendering.models import Section
from ggzy.trust.issuing import Issued
from ggzy_client import signatures
from tests.api.support import register
from tests.bidding import world as bw
from tests.conftest import PASSWORD, make_user
from tests.experts import world as ew
from tests.trust import pki

FAMILY = bw.FAMILY


def legal_rep_id(n: int) -> str:
    return make_resident_id(f"32010219{50 + n % 40}0101{n // 40 % 1000:03d}")


def person_id() -> str:
    """A fresh resident ID that is not also a valid USCC (a certificate carrying it must read
    as a person's)."""
    while True:
        rid = ew.next_id()
        try:
            validate_uscc(rid)
        except IdentifierError:
            return rid


@dataclass
class Member:
    user: User
    expert: Expert
    issued: Issued

    def sign(self, data: bytes) -> dict[str, Any]:
        return signatures.sign_detached(data, pki.keystore(self.issued), name="评标报告")


@dataclass
class EvalWorld:
    bidding: bw.World
    staff: User  # center_operations: runs the opening and the session
    pool_keeper: User  # center_admin
    employer: Entity
    members: list[Member] = field(default_factory=list)
    clock: Any = None

    @property
    def section(self) -> Section:
        return self.bidding.section


def make_bidders(n: int) -> bw.World:
    """tests/bidding/world.make_world, with a legal representative of its own per bidder."""
    install_default_catalog(actor="system:test")
    pki.onboard(FAMILY)
    tenderer = make_user("tenderer_admin", Role.TENDERER)
    tenderer_entity = register(tenderer, 900, name="南京市某中学", is_bidder=False,
                               is_tenderer=True, entity_type="institution")  # fmt: skip
    world = bw.World(tenderer=tenderer, tenderer_entity=tenderer_entity,
                     intake=make_user("intake_staff", Role.CENTER_INTAKE),
                     operations=make_user("ops_staff", Role.CENTER_OPERATIONS))  # fmt: skip
    for k in range(1, n + 1):
        user = make_user(f"bidder{k}", Role.BIDDER)
        entity = register(user, k, legal_representative_id=legal_rep_id(k))
        issued = pki.entity_cert(FAMILY, entity.uscc, entity.name)
        pki.bind(user, issued, entity)
        world.bidders.append(bw.Bidder(user, entity, issued))
    return world


def make_experts(world: EvalWorld, count: int = 5) -> list[Member]:
    if not Specialty.objects.exists():
        ew.install_taxonomy(world.pool_keeper)
    pool = ew.ExpertWorld(staff=world.pool_keeper, owner=world.pool_keeper, employer=world.employer)
    start = len(world.members)
    for k in range(start, start + count):
        rid = person_id()
        user = create_user(actor="system:test", username=f"expert{k + 1}", password=PASSWORD,
                           roles=[Role.EXPERT], display_name=f"专家{k + 1}", resident_id=rid,
                           check_password=False)  # fmt: skip
        expert = expert_services.approve_application(
            actor=world.pool_keeper,
            expert=pool.pending(owner=user, name=f"专家{k + 1}", resident_id=rid),
        )
        issued = pki.person_cert(FAMILY, expert.resident_id, expert.name)
        pki.bind(user, issued)
        world.members.append(Member(user, expert, issued))
    return world.members


def make_world(
    clock: Any, *, bidders: int = 3, method: str = "comprehensive", **terms: Any
) -> EvalWorld:
    bidding = make_bidders(bidders)
    overrides: dict[str, Any] = {"deposit": "0.00", **terms}
    if method == "lowest_price":
        overrides |= {"evaluation_method": "lowest_price", "criteria": []}
    bw.publish(bidding, terms=bw.project_terms(sections=[bw.section_terms(**overrides)]))
    keeper = make_user("pool_keeper", Role.CENTER_ADMIN)
    employer = register(make_user("institute_admin", Role.TENDERER), 700,
                        name="南京市建筑设计研究院", is_bidder=False, is_tenderer=True,
                        legal_representative_id=legal_rep_id(700))  # fmt: skip
    world = EvalWorld(bidding, bidding.operations, keeper, employer, clock=clock)
    make_experts(world)
    return world


def open_section(world: EvalWorld, prices: list[str]) -> Opening:
    """Every bidder bids (``prices`` in order), the deadline passes, every key is handed over,
    and the opening closes with its signed record."""
    section = world.section
    handed = []
    with tempfile.TemporaryDirectory(prefix="ggzy-eval-") as work:
        for n, (bidder, price) in enumerate(zip(world.bidding.bidders, prices, strict=True)):
            path = bw.sealed(bidder, section, Path(work) / f"b{n}", price=price,
                             tech=f"技术标 施工组织设计 方案{n}".encode())  # fmt: skip
            bid = bids.submit_bid(actor=bidder.user, section_id=section.public_id, upload=path)
            handed.append((bidder, bid, bw.content_key(path)))
        assert section.bid_deadline is not None
        world.clock.set(section.bid_deadline + timedelta(seconds=1))
        session = opening.start_opening(actor=world.staff, section=section)
        for bidder, bid, key in handed:
            bid.refresh_from_db()
            opening.submit_key(actor=bidder.user, bid=bid, content_key=key)
    return opening.close_opening(actor=world.staff, opening=session)


def seated(world: EvalWorld) -> EvaluationSession:
    """A session with its committee of five experts, the first the chair."""
    session = services.create_session(actor=world.staff, section=world.section)
    experts = [m.expert for m in world.members]
    return services.form_committee(actor=world.staff, session=session, experts=experts,
                                   chair=experts[0])  # fmt: skip


def confirm_all(world: EvalWorld, session: EvaluationSession) -> None:
    """Every member confirms every automated finding."""
    ids = list(session.findings.values_list("pk", flat=True))
    for m in world.members:
        services.cast_votes(actor=m.user, session=session, votes=[(f, True, "") for f in ids])


def score_all(
    world: EvalWorld, session: EvaluationSession, points: dict[str, dict[str, str]]
) -> None:
    """Every member gives ``points[label][criterion]`` to every valid bid."""
    for m in world.members:
        entries = [services_scoring.ScoreEntry(label, c, p, "符合要求")
                   for label, row in points.items() for c, p in row.items()]  # fmt: skip
        services_scoring.submit_scores(actor=m.user, session=session, entries=entries)


def sign_all(world: EvalWorld, session: EvaluationSession) -> EvaluationSession:
    session.refresh_from_db()
    data = bytes(session.report or b"")
    for m in world.members:
        services_report.sign_report(actor=m.user, session=session, sigfile=m.sign(data))
    session.refresh_from_db()
    return session
