"""An evaluation world: a section opened with a signed record (through the bidding services and
tests/bidding/world.py's sealing helpers), an expert pool with five experts whose person
certificates are bound to their accounts, and helpers to carry a session to a signed report.

Bidders have distinct legal representatives (the shared test registration has one for all,
which R48 would void); a test that wants related bidders says so.
"""

from __future__ import annotations

import contextlib
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

from ggzy.accounts.models import User
from ggzy.accounts.roles import Role
from ggzy.accounts.services import create_user
from ggzy.bidding import bids, opening
from ggzy.bidding.models import Opening
from ggzy.catalog.services import install_default_catalog
from ggzy.core.identifiers import IdentifierError, make_resident_id, validate_uscc
from ggzy.evaluation import services, services_report, services_review, services_scoring
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


def open_section(world: EvalWorld, prices: list[str], *, keep_key: int | None = None) -> Opening:
    """Every bidder bids (``prices`` in order), the deadline passes, every key is handed over
    (but bidder ``keep_key``'s: its bid is revoked, R39), and the opening closes with its
    signed record."""
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
        for n, (bidder, bid, key) in enumerate(handed):
            if n == keep_key:
                continue
            bid.refresh_from_db()
            opening.submit_key(actor=bidder.user, bid=bid, content_key=key)
        if keep_key is not None:
            session.refresh_from_db()
            assert session.window_ends_at is not None
            world.clock.set(session.window_ends_at)
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
        services_review.cast_votes(
            actor=m.user, session=session, votes=[(f, True, "") for f in ids]
        )


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


# --- the permission matrix's world --------------------------------------------------------------

MATRIX_PRICES = ["9000000.00", "9500000.00", "5000000.00"]  # the third is abnormally low
MATRIX_TECH = {"c2": "25", "c3": "8"}
STATES = ("opened", "forming", "formed", "qualification", "reviewed", "scoring", "scored",
          "report")  # fmt: skip


class MatrixEval:
    """An evaluation built on the matrix cast, lazily and once per test: the cast's tenderer
    and bidders (its entity and the tender world's two others), five experts — the first the
    cast's ``expert`` account, the chair. :meth:`at` carries the one session forward to a state
    and no further; refused calls change nothing, so every refused actor gets the same state."""

    def __init__(
        self,
        tender: Any,
        *,
        intake: User,
        keeper: User,
        expert_user: User,
        clock: Any,
        staff_member: bool = False,
    ) -> None:
        from ggzy.registry.services import update_entity

        tw = tender
        people = [tw.bidder, *tw.others]
        for k, b in enumerate(people[1:], start=1):
            update_entity(actor=intake, entity=b.entity,
                          changes={"legal_representative_id": legal_rep_id(500 + k)})  # fmt: skip
        bidding = bw.World(
            tenderer=tw.tenderer, tenderer_entity=tw.tenderer_entity, intake=tw.intake,
            operations=tw.operations,
            bidders=[bw.Bidder(b.user, b.entity, b.certificate) for b in people],
        )  # fmt: skip
        bw.publish(bidding, terms=bw.project_terms(sections=[bw.section_terms(deposit="0.00")]))
        employer = register(make_user("mx_institute", Role.TENDERER), 701,
                            name="江苏省建筑科学研究院", is_bidder=False, is_tenderer=True,
                            legal_representative_id=legal_rep_id(701))  # fmt: skip
        self.world = EvalWorld(bidding, tw.operations, keeper, employer, clock=clock)
        self._own_expert(expert_user)
        make_experts(self.world, 4)
        self.session: EvaluationSession | None = None
        self.state = "none"
        self.staff_member = staff_member
        self.spare = make_experts(self.world, 1).pop() if staff_member else None

    def _own_expert(self, user: User) -> None:
        if not Specialty.objects.exists():
            ew.install_taxonomy(self.world.pool_keeper)
        rid = person_id()
        User.objects.filter(pk=user.pk).update(resident_id=rid)
        user.refresh_from_db()
        pool = ew.ExpertWorld(
            staff=self.world.pool_keeper, owner=user, employer=self.world.employer
        )
        expert = expert_services.approve_application(
            actor=self.world.pool_keeper, expert=pool.pending(owner=user, resident_id=rid)
        )
        issued = pki.person_cert(FAMILY, rid, expert.name)
        pki.bind(user, issued)
        self.world.members.append(Member(user, expert, issued))

    @property
    def expert(self) -> Member:
        return self.world.members[0]

    def at(self, state: str) -> EvaluationSession:
        target = STATES.index(state)
        while self.state != state:
            current = STATES.index(self.state) if self.state in STATES else -1
            assert current < target, (self.state, state)
            self._step(STATES[current + 1])
        if self.session is not None:
            self.session.refresh_from_db()
        return self.session  # type: ignore[return-value]

    def current(self) -> EvaluationSession:
        """The session as far as it has got (made when there is none yet)."""
        if self.session is None:
            return self.at("forming")
        self.session.refresh_from_db()
        return self.session

    def _step(self, state: str) -> None:
        world, staff = self.world, self.world.staff
        if state == "opened":
            open_section(world, MATRIX_PRICES)
        elif state == "forming":
            self.session = services.create_session(actor=staff, section=world.section)
        elif state == "formed":
            experts = [m.expert for m in world.members]
            with self._seating():
                services.form_committee(actor=staff, session=self.session, experts=experts,
                                        chair=experts[0])  # fmt: skip
        elif state == "qualification":
            services_review.start_review(actor=staff, session=self.session)
        elif state == "reviewed":
            confirm_all(world, self.session)
        elif state == "scoring":
            services_review.start_scoring(actor=staff, session=self.session)
        elif state == "scored":
            low = self.session.bids.get(low_price="pending")
            services_scoring.decide_low_price(actor=self.expert.user, session=self.session,
                                              bid=low.label, accepted=True, note="成本构成合理")  # fmt: skip
            score_all(world, self.session, {b.label: MATRIX_TECH for b in self.session.bids.all()})
        elif state == "report":
            services_report.build_report(actor=staff, session=self.session)
        self.state = state

    def _seating(self) -> Any:
        """The error matrix calls every operation as omni, who holds every role: it seats omni
        although a staff account is refused anywhere else (``member_is_staff``). The committee
        it posts itself seats the spare expert instead (:meth:`committee`)."""
        if not self.staff_member:
            return contextlib.nullcontext()
        return mock.patch.object(services, "_is_staff", return_value=False)

    def committee(self) -> list[Member]:
        """A committee the API may seat: without omni's expert in the error world."""
        if self.spare is None:
            return list(self.world.members)
        return [self.spare, *self.world.members[1:]]

    def votes_body(self) -> dict[str, Any]:
        assert self.session is not None
        ids = self.session.findings.values_list("pk", flat=True)
        return {"votes": [{"finding": f, "agrees": True} for f in ids]}

    def signature_body(self) -> dict[str, Any]:
        assert self.session is not None
        return {"sigfile": self.expert.sign(bytes(self.session.report or b""))}


def for_cast(cast: Any) -> MatrixEval:
    """The permission matrix's: the cast's ``expert`` account sits on the committee (chair)."""
    if "_evaluation" not in cast.__dict__:
        cast.__dict__["_evaluation"] = MatrixEval(
            cast.tender, intake=cast.users["center_intake"], keeper=cast.users["center_admin"],
            expert_user=cast.users["expert"], clock=cast.clock,
        )  # fmt: skip
    return cast.__dict__["_evaluation"]  # type: ignore[no-any-return]


def for_world(world: Any) -> MatrixEval:
    """The error matrix's: omni (every role) runs the session and chairs the committee."""
    if "_evaluation" not in world.__dict__:
        world.__dict__["_evaluation"] = MatrixEval(
            world.tender, intake=world.omni, keeper=make_user("ev_keeper", Role.CENTER_ADMIN),
            expert_user=world.omni, clock=world.clock, staff_member=True,
        )  # fmt: skip
    return world.__dict__["_evaluation"]  # type: ignore[no-any-return]
