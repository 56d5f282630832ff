"""A venue world for the venue tests and the API matrices: sites in three cities (Nanjing,
Suzhou, Shanghai) with opening halls and evaluation rooms, published sections to book for,
witnesses, and active experts — everything made through the services.

Builders named after a state (``held()``, ``session()``, ``secondary()`` …) return the same
object while it is still in that state, so the permission matrix may call them once per refused
actor (a refusal changes nothing) and the allowed actor still gets an object to act on.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime, time, timedelta
from functools import cached_property
from typing import Any

from ggzy.accounts.models import User
from ggzy.accounts.roles import Role
from ggzy.catalog.services import install_default_catalog
from ggzy.core import clock
from ggzy.core.clock import CHINA
from ggzy.experts.models import Expert
from ggzy.registry.models import Entity, Region
from ggzy.tendering import services as tendering
from ggzy.tendering.models import Section
from ggzy.venues import services, sessions
from ggzy.venues.models import Booking, RemoteSession, SessionVenue, Site, Venue
from tests.api.support import register
from tests.bidding.world import project_terms
from tests.conftest import make_user
from tests.experts.world import ExpertWorld, install_taxonomy

SITES = [  # code, name, region, region name, parent
    ("NJ", "南京市公共资源交易中心", "320100", "南京市", "320000"),
    ("SZ", "苏州市公共资源交易中心", "320500", "苏州市", "320000"),
    ("SH", "上海市公共资源交易中心", "310100", "上海市市辖区", "310000"),
]
VENUES = [  # site, code, name, kind, capacity, video, remote link
    ("NJ", "H1", "第一开标室", "opening_hall", 60, True, False),
    ("NJ", "E1", "第一评标室", "evaluation_room", 9, True, True),
    ("NJ", "E2", "第二评标室（无录像）", "evaluation_room", 9, False, False),
    ("SZ", "E1", "远程评标室", "evaluation_room", 3, True, True),
    ("SH", "E1", "远程评标室", "evaluation_room", 5, True, True),
]
DIGEST = "ab" * 32


def ensure_regions() -> None:
    names = {"320000": "江苏省", "310000": "上海市"}
    for code, name in names.items():
        Region.objects.get_or_create(code=code, defaults={"name": name})
    for _c, _n, code, name, parent in SITES:
        Region.objects.get_or_create(code=code, defaults={"name": name, "parent_id": parent})


def local(day: datetime, hh: int, mm: int = 0) -> datetime:
    """``hh:mm`` China time on the (China) date of ``day``."""
    d = day.astimezone(CHINA).date()
    return datetime(d.year, d.month, d.day, hh, mm, tzinfo=CHINA)


class VenueWorld:
    """``admin`` keeps sites and venues; ``booker`` books and lays out sessions; ``witness`` is
    the witness at main venues; ``witnesses`` at secondary ones; ``intake`` accepts projects."""

    def __init__(self, *, admin: User, booker: User, witness: User, intake: User,
                 tenderer: User, employer: Entity, tenderer_n: int = 700) -> None:  # fmt: skip
        self.admin, self.booker, self.witness = admin, booker, witness
        self.intake, self.tenderer, self.employer = intake, tenderer, employer
        self.tenderer_n = tenderer_n
        self.cache: dict[str, Any] = {}
        self._projects = 0

    # --- places ---------------------------------------------------------------------------

    @cached_property
    def sites(self) -> dict[str, Site]:
        ensure_regions()
        return {
            code: services.create_site(
                actor=self.admin,
                code=code,
                name=name,
                region=Region.objects.get(code=region),
                address=f"{name}大楼",
            )
            for code, name, region, _rn, _p in SITES
        }

    @cached_property
    def venues(self) -> dict[str, Venue]:
        out = {}
        for site, code, name, kind, seats, video, remote in VENUES:
            out[f"{site}/{code}"] = services.create_venue(
                actor=self.admin, site=self.sites[site], code=code, name=name, kind=kind,
                capacity=seats, video_recording=video, remote_link=remote,
            )  # fmt: skip
        return out

    @cached_property
    def witnesses(self) -> list[User]:
        return [make_user(f"vw_witness{n}", Role.CENTER_OPERATIONS) for n in (1, 2, 3)]

    # --- sections -------------------------------------------------------------------------

    @cached_property
    def tenderer_entity(self) -> Entity:
        install_default_catalog(actor="system:test")
        return register(self.tenderer, self.tenderer_n, name="南京市某中学", is_bidder=False,
                        is_tenderer=True, entity_type="institution")  # fmt: skip

    def section(self, *, days: int = 21, publish: bool = True) -> Section:
        """A fresh section of a fresh project, published with its deadline ``days`` ahead."""
        self._projects += 1
        project = tendering.register_project(
            actor=self.tenderer, tenderer=self.tenderer_entity,
            terms=project_terms(name=f"南京市某中学教学楼新建工程（{self._projects}）"),
        )  # fmt: skip
        tendering.submit_project(actor=self.tenderer, project=project)
        tendering.accept_project(actor=self.intake, project=project)
        if publish:
            tendering.upload_document(
                actor=self.tenderer, project=project, kind="tender", name="招标文件.txt",
                stream=io.BytesIO("第一章 招标公告\n投标人须具备相应资质。\n".encode()),
            )  # fmt: skip
            now = clock.now()
            tendering.publish_project(
                actor=self.tenderer, project=project, announcement="招标公告正文",
                documents_from=now, documents_until=now + timedelta(days=6),
                bid_deadline=local(now + timedelta(days=days), 9, 30),
            )  # fmt: skip
        return Section.objects.select_related("project").get(project=project, number=1)

    @cached_property
    def main_section(self) -> Section:
        return self.section()

    # --- bookings -------------------------------------------------------------------------

    def opening_times(self, section: Section) -> tuple[datetime, datetime]:
        assert section.bid_deadline is not None
        return local(section.bid_deadline, 9), local(section.bid_deadline, 11, 30)

    def evaluation_times(self, section: Section) -> tuple[datetime, datetime]:
        assert section.bid_deadline is not None
        return local(section.bid_deadline, 13), local(section.bid_deadline, 17, 30)

    def book(self, venue: str, section: Section | None = None, purpose: str = "evaluation",
             **kw: Any) -> Booking:  # fmt: skip
        section = section or self.main_section
        if "start" in kw:
            start, end = kw.pop("start"), kw.pop("end")
        else:
            times = self.opening_times if purpose == "opening" else self.evaluation_times
            start, end = times(section)
        return services.book_venue(actor=self.booker, venue=self.venues[venue], section=section,
                                   purpose=purpose, start=start, end=end, **kw)  # fmt: skip

    def _reuse(self, key: str, make: Callable[[], Any], still: Callable[[Any], bool]) -> Any:
        row = self.cache.get(key)
        if row is not None:
            try:
                row.refresh_from_db()
            except type(row).DoesNotExist:
                row = None
        if row is None or not still(row):
            row = self.cache[key] = make()
        return row

    def held(self) -> Booking:
        """A held opening booking of its own section."""
        return self._reuse("held", lambda: self.book("NJ/H1", self.section(), "opening"),  # type: ignore[no-any-return]
                           lambda b: b.state == "held")  # fmt: skip

    def free_evaluation(self) -> Booking:
        """A held evaluation booking in no session, of its own section (in Nanjing)."""
        return self._reuse("free_evaluation", lambda: self.book("NJ/E1", self.section()),  # type: ignore[no-any-return]
                           lambda b: b.state == "held" and not SessionVenue.objects.filter(
                               booking=b).exists())  # fmt: skip

    def session(self) -> RemoteSession:
        """A scheduled session: main venue Nanjing E1 (the world's witness), no secondary."""

        def make() -> RemoteSession:
            booking = self.book("NJ/E1", self.main_section)
            return sessions.create_session(actor=self.booker, booking=booking,
                                           witness=self.witness)  # fmt: skip

        return self._reuse("session", make, lambda s: s.state == "scheduled")  # type: ignore[no-any-return]

    def secondary_booking(self, venue: str = "SZ/E1") -> Booking:
        """A held evaluation booking for the session's section, in no session yet."""
        session = self.session()
        return self._reuse(  # type: ignore[no-any-return]
            f"secondary_booking:{venue}", lambda: self.book(venue, session.section),
            lambda b: b.state == "held" and not SessionVenue.objects.filter(booking=b).exists(),
        )  # fmt: skip

    def secondary(self, venue: str = "SZ/E1", witness: int = 0) -> SessionVenue:
        session = self.session()
        return self._reuse(  # type: ignore[no-any-return]
            f"secondary:{venue}",
            lambda: sessions.add_secondary_venue(
                actor=self.booker, session=session, booking=self.secondary_booking(venue),
                witness=self.witnesses[witness]),
            lambda sv: True,
        )  # fmt: skip

    def main(self) -> SessionVenue:
        return sessions.main_venue(self.session())

    @cached_property
    def expert_world(self) -> ExpertWorld:
        from ggzy.experts.models import Specialty

        if not Specialty.objects.exists():
            install_taxonomy(self.admin)
        return ExpertWorld(staff=self.admin, owner=make_user("vw_expert", Role.EXPERT),
                           employer=self.employer)  # fmt: skip

    def expert(self, n: int = 0) -> Expert:
        return self._reuse(f"expert:{n}", lambda: self.expert_world.active(owned=False),  # type: ignore[no-any-return]
                           lambda e: True)  # fmt: skip

    def assigned(self) -> tuple[Booking, Expert]:
        """Expert 0 assigned to the session's main venue."""
        main = self.main()

        def make() -> Any:
            return sessions.assign_expert(actor=self.booker, booking=main.booking,
                                          expert=self.expert(0))  # fmt: skip

        row = self._reuse("assigned", make, lambda a: True)
        return row.booking, row.expert

    def record(self, sv: SessionVenue, kind: str, **kw: Any) -> Any:
        return sessions.record_event(actor=sv.witness, session_venue=sv, kind=kind, **kw)


def for_cast(cast: Any) -> VenueWorld:
    """The permission matrix's venue world: center admin keeps venues, the organizing desk
    books and is the main venues' witness."""
    if "_venue_world" not in cast.__dict__:
        u = cast.users
        cast.__dict__["_venue_world"] = VenueWorld(
            admin=u["center_admin"], booker=u["center_operations"],
            witness=u["center_operations"], intake=u["center_intake"], tenderer=u["tenderer"],
            employer=cast.entity,
        )  # fmt: skip
    return cast.__dict__["_venue_world"]  # type: ignore[no-any-return]


def for_world(world: Any) -> VenueWorld:
    """The error matrix's venue world: omni (every role) does everything."""
    if "_venue_world" not in world.__dict__:
        o = world.omni
        world.__dict__["_venue_world"] = VenueWorld(
            admin=o, booker=o, witness=o, intake=o, tenderer=o, employer=world.entity
        )
    return world.__dict__["_venue_world"]  # type: ignore[no-any-return]


__all__ = ["DIGEST", "VenueWorld", "for_cast", "for_world", "local", "time"]
