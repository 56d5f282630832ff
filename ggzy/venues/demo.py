"""The demo venues: trading-center sites in Nanjing, Suzhou and Guiyang with opening halls,
evaluation rooms and a witness room — and, for the demo tender still open for bids, its opening
hall booked at the bid deadline and a remote evaluation session laid out the next working day
(Nanjing main venue, Suzhou and Guiyang secondary venues, a witness at each, experts placed).
Everything through the services, like the rest of the demo; idempotent."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.db import transaction

from ggzy.accounts.models import User
from ggzy.accounts.roles import Role
from ggzy.accounts.services import create_user
from ggzy.core import calendar
from ggzy.core.clock import CHINA
from ggzy.experts.models import Expert
from ggzy.registry.models import Region
from ggzy.tendering.models import Section
from ggzy.venues import services, sessions
from ggzy.venues.checks import within_hours
from ggzy.venues.models import Booking, RemoteSession, Site, Venue

SYSTEM = "system:demo"
DEMO_PASSWORD = "Demo-2026-ggzy"
OPEN_NAME = "【演示】市第一中学体育馆改造工程施工"  # ggzy.bidding.demo
SITES = [  # code, name, region, address
    ("NJ", "南京市公共资源交易中心", "320100", "南京市建邺区江东中路265号"),
    ("SZ", "苏州市公共资源交易中心", "320500", "苏州市姑苏区三香路998号"),
    ("GY", "贵阳市公共资源交易中心", "520100", "贵阳市观山湖区林城西路"),
]
VENUES = [  # site, code, name, kind, seats, video, remote link
    ("NJ", "H1", "第一开标室", "opening_hall", 80, True, False),
    ("NJ", "H2", "第二开标室", "opening_hall", 40, True, False),
    ("NJ", "E1", "第一评标室（远程主场）", "evaluation_room", 9, True, True),
    ("NJ", "E2", "第二评标室", "evaluation_room", 7, True, True),
    ("NJ", "W1", "见证室", "witness_room", 6, True, True),
    ("SZ", "H1", "开标大厅", "opening_hall", 60, True, False),
    ("SZ", "E1", "远程评标室", "evaluation_room", 5, True, True),
    ("GY", "H1", "开标室", "opening_hall", 50, True, False),
    ("GY", "E1", "远程异地评标室", "evaluation_room", 5, True, True),
]
WITNESSES = [  # username, display name
    ("jianzheng_sz", "苏州见证岗 钱峰"),
    ("jianzheng_gy", "贵阳见证岗 罗敏"),
]
OVERRIDE = "演示数据：按投标截止时间开标"


@dataclass
class DemoVenues:
    created: bool
    sites: int
    venues: int
    sessions: list[str] = field(default_factory=list)


def load_demo_venues() -> DemoVenues:
    """Idempotent: does nothing if the demo sites exist; all or nothing."""
    if Site.objects.filter(code="NJ").exists():
        return DemoVenues(False, Site.objects.count(), Venue.objects.count(),
                          list(RemoteSession.objects.values_list("public_id", flat=True)))  # fmt: skip
    with transaction.atomic():
        return _load()


def _load() -> DemoVenues:
    admin, desk = User.objects.get(username="admin"), User.objects.get(username="zuzhi")
    sites = {code: services.create_site(actor=admin, code=code, name=name,
                                        region=Region.objects.get(code=region), address=address)
             for code, name, region, address in SITES}  # fmt: skip
    rooms = {}
    for site, code, name, kind, seats, video, remote in VENUES:
        rooms[f"{site}/{code}"] = services.create_venue(
            actor=admin, site=sites[site], code=code, name=name, kind=kind, capacity=seats,
            video_recording=video, remote_link=remote,
        )  # fmt: skip
    witnesses = [User.objects.filter(username=u).first() or create_user(
        actor=SYSTEM, username=u, password=DEMO_PASSWORD, roles=[Role.CENTER_OPERATIONS],
        display_name=d, check_password=False) for u, d in WITNESSES]  # fmt: skip
    result = DemoVenues(True, len(sites), len(rooms))
    section = Section.objects.select_related("project").filter(project__name=OPEN_NAME).first()
    if section is not None and section.bid_deadline is not None:
        result.sessions.append(_remote_session(desk, witnesses, rooms, section).public_id)
    return result


def _book(desk: User, room: Venue, section: Section, purpose: str, start: datetime,
          end: datetime) -> Booking:  # fmt: skip
    hours = within_hours(start, end, room.site.opens_at, room.site.closes_at)
    return services.book_venue(actor=desk, venue=room, section=section, purpose=purpose,
                               start=start, end=end, override_reason="" if hours.ok else OVERRIDE)  # fmt: skip


def _remote_session(desk: User, witnesses: list[User], rooms: dict[str, Venue],
                    section: Section) -> RemoteSession:  # fmt: skip
    assert section.bid_deadline is not None
    deadline = section.bid_deadline
    _book(desk, rooms["NJ/H1"], section, "opening", deadline - timedelta(minutes=30),
          deadline + timedelta(hours=2))  # fmt: skip
    day = calendar.add_working_days(deadline.astimezone(CHINA).date(), 1)
    start = datetime.combine(day, time(9, 0), tzinfo=CHINA)
    end = datetime.combine(day, time(17, 0), tzinfo=CHINA)
    main = _book(desk, rooms["NJ/E1"], section, "evaluation", start, end)
    services.confirm_booking(actor=desk, booking=main)
    session = sessions.create_session(actor=desk, booking=main, witness=desk)
    for room, witness, region, seats in (("SZ/E1", witnesses[0], "320500", 2),
                                         ("GY/E1", witnesses[1], "520100", 2)):  # fmt: skip
        booking = _book(desk, rooms[room], section, "evaluation", start, end)
        sessions.add_secondary_venue(actor=desk, session=session, booking=booking,
                                     witness=witness)  # fmt: skip
        for expert in Expert.objects.filter(status="active", region_id=region)[:seats]:
            sessions.assign_expert(actor=desk, booking=booking, expert=expert)
    for expert in Expert.objects.filter(status="active", region_id="320100")[:3]:
        sessions.assign_expert(actor=desk, booking=main, expert=expert)
    return session
