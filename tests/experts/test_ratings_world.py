"""The ratings tests' world (no tests here; the name keeps it among the ratings test files):
sessions carried to a signed report through the evaluation services by tests/evaluation/world.py
— five experts on each committee, the section's tenderer (``tenderer_admin``, admin member of
the tenderer entity), the organizing desk (``ops_staff``), a tenderer of another project
(``institute_admin``). Lowest-price sections: nothing to score, so a session is signed quickly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ggzy.accounts.models import User
from ggzy.evaluation import services_report, services_review
from ggzy.evaluation.models import EvaluationSession
from ggzy.experts.models import Expert
from tests.bidding import world as bw
from tests.evaluation import world as w

PRICES = ["9000000.00", "9500000.00", "8900000.00"]
LOWEST_PRICE = {"deposit": "0.00", "evaluation_method": "lowest_price", "criteria": []}


@dataclass
class RatingWorld:
    ev: w.EvalWorld
    sessions: list[EvaluationSession] = field(default_factory=list)

    @property
    def ops(self) -> User:
        return self.ev.staff

    @property
    def tenderer(self) -> User:
        return self.ev.bidding.tenderer

    @property
    def other_tenderer(self) -> User:
        return User.objects.get(username="institute_admin")

    @property
    def experts(self) -> list[Expert]:
        return [m.expert for m in self.ev.members]

    def expert_user(self, n: int = 0) -> User:
        return self.ev.members[n].user


def reported(ev: w.EvalWorld) -> EvaluationSession:
    """The current section opened, evaluated and its report built — not yet signed."""
    w.open_section(ev, PRICES)
    session = w.seated(ev)
    services_review.start_review(actor=ev.staff, session=session)
    w.confirm_all(ev, session)
    services_review.start_scoring(actor=ev.staff, session=session)
    services_report.build_report(actor=ev.staff, session=session)
    session.refresh_from_db()
    return session


def signed(ev: w.EvalWorld) -> EvaluationSession:
    return w.sign_all(ev, reported(ev))


def next_project(ev: w.EvalWorld) -> None:
    """Publish another project of the same tenderer: its section is the world's current one."""
    bw.publish(ev.bidding, terms=bw.project_terms(sections=[bw.section_terms(**LOWEST_PRICE)]))


def make_rating_world(clock: Any, *, sessions: int = 1, sign_last: bool = True) -> RatingWorld:
    """``sessions`` sessions of the same five experts, one per project, each signed (the last
    one only reported when ``sign_last`` is false)."""
    world = RatingWorld(w.make_world(clock, method="lowest_price"))
    for n in range(sessions):
        if n:
            next_project(world.ev)
        last = n == sessions - 1
        world.sessions.append(signed(world.ev) if sign_last or not last else reported(world.ev))
    return world
