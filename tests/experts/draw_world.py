"""A world for the draw tests: a section whose opening is held (its bidders known), its tenderer
and agent, neutral employers, and expert pools — a few experts made through the services, or
many written straight into the tables (as the benchmark does) for the property tests.

Every entity gets its own legal representative ID here: the registry test helper gives them all
the same one, which would make every employer "related" to every party (R48's relation)."""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ggzy.accounts.models import User
from ggzy.bidding.models import Bid, Opening
from ggzy.bidding.states import BidStatus, OpeningStatus
from ggzy.core import clock
from ggzy.core.identifiers import make_resident_id
from ggzy.experts import draw_services, services
from ggzy.experts.draw_models import Draw
from ggzy.experts.draw_services import QuotaTerms
from ggzy.experts.models import Expert, ExpertSpecialty, Specialty
from ggzy.registry.models import Entity, Region
from ggzy.tendering import services as tendering
from ggzy.tendering.models import Section
from tests.api.support import register
from tests.api.tender_world import project_body
from tests.experts.world import expert_data, install_taxonomy

_entity_numbers = itertools.count(300)
_resident_numbers = itertools.count(1)
REGIONS = [
    ("320000", "江苏省", None),
    ("320100", "南京市", "320000"),
    ("320200", "无锡市", "320000"),
    ("320300", "徐州市", "320000"),
    ("520000", "贵州省", None),
    ("520100", "贵阳市", "520000"),
]


def rep_id(n: int) -> str:
    """A distinct valid resident ID per n (for legal representatives)."""
    return make_resident_id(f"110105{1950 + n % 40}0101{n // 40 % 1000:03d}"[:17])


def install_regions() -> None:
    for code, name, parent in REGIONS:
        Region.objects.get_or_create(code=code, defaults={"name": name, "parent_id": parent})


def entity(user: User, **overrides: Any) -> Entity:
    n = next(_entity_numbers)
    values: dict[str, Any] = {"legal_representative_id": rep_id(n)}
    values.update(overrides)
    return register(user, n, **values)


@dataclass
class DrawWorld:
    ops: User  # center operations: requests draws, reveals
    admin: User  # center admin: keeps the pool
    tenderer_user: User
    bidder_user: User
    section: Section
    tenderer: Entity
    agent: Entity
    bidders: list[Entity]
    employers: list[Entity]
    made: list[Expert] = field(default_factory=list)

    @property
    def session_at(self) -> datetime:
        return clock.now() + timedelta(days=2)

    def expert(
        self, *, employer: Entity | None = None, owner: User | None = None, **overrides: Any
    ) -> Expert:
        """An active expert through the services (R20 checked, ledger events)."""
        data = expert_data(employer or self.employers[0], **overrides)
        expert = services.register_expert(
            actor=self.admin, data=data, username=owner.username if owner else ""
        )
        self.made.append(expert)
        return expert

    def draw(
        self, quotas: list[tuple[str, int, int]] | list[QuotaTerms] | None = None, **terms: Any
    ) -> Draw:
        chosen = [
            q if isinstance(q, QuotaTerms) else QuotaTerms(*q) for q in (quotas or [("A01", 3, 1)])
        ]
        terms.setdefault("session_at", self.session_at)
        return draw_services.request_draw(
            actor=self.ops, section=self.section, quotas=chosen, **terms
        )


def make_world(users: dict[str, Any], *, bidders: int = 3) -> DrawWorld:
    from ggzy.catalog.services import install_default_catalog

    install_default_catalog(actor="system:test")
    install_regions()
    admin, ops = users["center_admin"], users["center_operations"]
    if not Specialty.objects.exists():
        install_taxonomy(admin)
    tenderer_user, bidder_user = users["tenderer"], users["bidder"]
    tenderer = entity(
        tenderer_user,
        name="南京市某中学",
        is_bidder=False,
        is_tenderer=True,
        entity_type="institution",
    )
    agent = entity(users["agent"], name="江苏某招标代理有限公司", is_bidder=False, is_agent=True)
    project = tendering.register_project(
        actor=tenderer_user, tenderer=tenderer, terms=tendering.ProjectTerms(**project_body())
    )
    project.agent = agent
    project.save(update_fields=["agent"])
    section = Section.objects.select_related("project").get(project=project, number=1)
    section.code = f"S-{secrets.token_hex(4)}"
    section.save(update_fields=["code"])
    made = [entity(bidder_user, name=f"投标人{n}建设有限公司") for n in range(bidders)]
    open_section(section, ops, made)
    employers = [entity(bidder_user, name=f"中立单位{n}研究院") for n in range(4)]
    return DrawWorld(
        ops=ops,
        admin=admin,
        tenderer_user=tenderer_user,
        bidder_user=bidder_user,
        section=section,
        tenderer=tenderer,
        agent=agent,
        bidders=made,
        employers=employers,
    )


def open_section(section: Section, ops: User, bidders: list[Entity]) -> Opening:
    """The opening held: the register unsealed, so the bids name their section and bidder."""
    now = clock.now()
    for n, bidder in enumerate(bidders):
        Bid.objects.create(
            public_id=secrets.token_hex(16),
            section_tag="t",
            bidder_tag="t",
            owner_tag="t",
            sealed_identity="",
            envelope_id=secrets.token_hex(16),
            storage_name="x",
            size=1,
            file_sha256="0" * 64,
            manifest_digest="0" * 64,
            status=BidStatus.OPENED,
            received_at=now - timedelta(days=1, minutes=n),
            section=section,
            entity=bidder,
        )
    return Opening.objects.create(
        section=section,
        status=OpeningStatus.CLOSED,
        started_at=now,
        started_by=ops,
        closed_at=now,
        bid_count=len(bidders),
    )


def another_section(world: DrawWorld, *, tenderer: Entity | None = None) -> Section:
    """A further opened section (same tenderer by default), with the same bidders."""
    project = tendering.register_project(
        actor=world.tenderer_user,
        tenderer=tenderer or world.tenderer,
        terms=tendering.ProjectTerms(**project_body()),
    )
    section = Section.objects.select_related("project").get(project=project, number=1)
    section.code = f"S-{secrets.token_hex(4)}"
    section.save(update_fields=["code"])
    open_section(section, world.ops, world.bidders)
    return section


# --- pools written straight into the tables ---------------------------------------------------


def bulk_pool(rows: list[dict[str, Any]]) -> list[Expert]:
    """Experts from dicts (``employer``, ``region``, ``specialties`` codes, optional ``status``,
    ``suspended_until``, ``resident_id``), bypassing the services — for pools of hundreds."""
    codes = {s.code: s for s in Specialty.objects.all()}
    now = clock.now()
    experts = []
    for r in rows:
        n = next(_resident_numbers)
        experts.append(
            Expert(
                public_id=secrets.token_hex(16),
                name=f"专家{n}",
                resident_id=r.get("resident_id") or make_resident_id(f"3201{n:013d}"[:17]),
                phone="13900000000",
                title_level="senior",
                title_name="高级工程师",
                years_in_field=15,
                employer=r["employer"],
                region_id=r["region"],
                primary_specialty=codes[r["specialties"][0]],
                status=r.get("status", "active"),
                suspended_until=r.get("suspended_until"),
                applied_at=now,
                approved_at=now,
                updated_at=now,
            )
        )
    Expert.objects.bulk_create(experts)
    ExpertSpecialty.objects.bulk_create(
        [
            ExpertSpecialty(
                expert=e,
                specialty=codes[c],
                is_primary=k == 0,
                region_id=r["region"],
                status=e.status,
                suspended_until=e.suspended_until,
            )
            for e, r in zip(experts, rows, strict=True)
            for k, c in enumerate(r["specialties"])
        ]
    )
    return experts


# --- for the API matrices (tests/api): a draw on the tender world's opened section -------------


def neutral_experts(
    staff: User, *, specialty: str = "B01", n: int = 1, owner: User | None = None
) -> list[Expert]:
    """``n`` active experts of ``specialty`` working for an entity that is no party of any
    section (its own legal representative); the first is ``owner``'s record when given."""
    from tests.conftest import make_user

    employer = entity(make_user(f"neutral{next(_entity_numbers)}", "bidder"), name="中立研究院")
    out = []
    for k in range(n):
        data = expert_data(employer, primary_specialty=specialty, other_specialties=[])
        username = owner.username if owner is not None and k == 0 else ""
        out.append(services.register_expert(actor=staff, data=data, username=username))
    return out


def matrix_draw(
    *,
    ops: User,
    staff: User,
    section: Section,
    owner: User | None = None,
    backups: int = 0,
    session_at: datetime | None = None,
) -> Draw:
    """A drawn draw of one B01 expert (``owner``'s, when given: the only candidate)."""
    if not Specialty.objects.filter(code="B01").exists():
        install_taxonomy(staff)
    if owner is not None and not Expert.objects.filter(user=owner).exists():
        neutral_experts(staff, owner=owner)
    if owner is None:
        neutral_experts(staff, n=1 + backups)
    return draw_services.request_draw(
        actor=ops,
        section=section,
        session_at=session_at or clock.now() + timedelta(days=2),
        quotas=[QuotaTerms("B01", 1, backups)],
    )


def owner_invitation(draw: Draw, owner: User) -> Any:
    from ggzy.experts import draw_seal

    expert = Expert.objects.get(user=owner)
    return draw.drawn.get(invitee_tag=draw_seal.invitee_tag(expert.pk))
