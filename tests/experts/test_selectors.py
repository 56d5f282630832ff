"""The draw's candidate selector and the private read path."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ggzy.core import clock
from ggzy.core.errors import NotFound, PermissionDenied
from ggzy.experts import selectors, services
from ggzy.registry.models import Region
from tests.api.support import register


@pytest.fixture
def pool(xw):  # type: ignore[no-untyped-def]
    Region.objects.create(code="520000", name="贵州省")
    Region.objects.create(code="520100", name="贵阳市", parent_id="520000")
    made = {
        "nanjing_civil": xw.active(owned=False, primary_specialty="A01.01", other_specialties=[]),
        "nanjing_install": xw.active(owned=False, primary_specialty="A01.02", other_specialties=[]),
        "guiyang_civil": xw.active(owned=False, region="520100", other_specialties=[]),
        "goods": xw.active(owned=False, primary_specialty="B01", other_specialties=[]),
        "suspended": xw.suspended(),
        "retired": xw.active(owned=False, other_specialties=[]),
    }
    services.retire_expert(actor=xw.staff, expert=made["retired"], reason="年龄")
    return made


def _ids(qs):  # type: ignore[no-untyped-def]
    return set(qs)


def test_candidates_by_specialty_subtree_region_and_status(xw, pool):  # type: ignore[no-untyped-def]
    day = clock.today() + timedelta(days=7)
    p = {k: v.pk for k, v in pool.items()}
    # a parent specialty covers its children; suspended and retired experts are not drawn
    assert _ids(selectors.draw_candidates(specialties=["A01"], day=day)) == {
        p["nanjing_civil"], p["nanjing_install"], p["guiyang_civil"]}  # fmt: skip
    assert _ids(selectors.draw_candidates(specialties=["A"], day=day, regions=["320000"])) == {
        p["nanjing_civil"], p["nanjing_install"]}  # fmt: skip
    assert _ids(selectors.draw_candidates(specialties=["A01.01"], day=day, regions=["520000"])) == {
        p["guiyang_civil"]}  # fmt: skip
    assert _ids(selectors.draw_candidates(specialties=["B"], day=day)) == {p["goods"]}


def test_a_lapsed_suspension_is_drawable_again(xw, pool):  # type: ignore[no-untyped-def]
    expert = pool["nanjing_civil"]
    until = clock.today() + timedelta(days=10)
    services.suspend_expert(actor=xw.staff, expert=expert, reason="违规", until=until)
    assert expert.pk not in _ids(selectors.draw_candidates(specialties=["A01.01"], day=until))
    after = until + timedelta(days=1)
    assert expert.pk in _ids(selectors.draw_candidates(specialties=["A01.01"], day=after))


def test_unavailable_conflicted_and_employed_experts_are_left_out(xw, users, pool):  # type: ignore[no-untyped-def]
    day = clock.today() + timedelta(days=4)
    civil, install = pool["nanjing_civil"], pool["nanjing_install"]
    services.add_unavailability(actor=xw.staff, expert=civil, start=day, end=day)
    bidder = register(users["bidder"], 2)
    services.declare_conflict(actor=xw.staff, expert=install, entity=bidder, reason="亲属任职")
    got = _ids(selectors.draw_candidates(specialties=["A01"], day=day, regions=["320000"],
                                         avoid_entities=[bidder.pk]))  # fmt: skip
    assert got == set()
    # the day after, the unavailable one is back; every expert of the employer is avoided
    got = _ids(selectors.draw_candidates(specialties=["A01"], day=day + timedelta(days=1),
                                         regions=["320000"], avoid_entities=[xw.employer.pk]))  # fmt: skip
    assert got == set()
    got = _ids(selectors.draw_candidates(specialties=["A01"], day=day + timedelta(days=1),
                                         regions=["320000"]))  # fmt: skip
    assert got == {civil.pk, install.pk}


def test_count_and_pick_by_offset(xw, pool):  # type: ignore[no-untyped-def]
    qs = selectors.draw_candidates(specialties=["A"], day=clock.today())
    ordered = sorted(_ids(qs))
    assert qs.count() == len(ordered) == 3
    assert [qs[k] for k in range(3)] == ordered


def test_a_record_is_private(xw, users, pool):  # type: ignore[no-untyped-def]
    expert = pool["suspended"]  # owned by the world's expert account
    assert selectors.get_expert_for(xw.owner, expert.public_id) == expert
    assert selectors.get_expert_for(users["auditor"], expert.public_id) == expert
    for outsider in (users["bidder"], users["tenderer"], None):
        with pytest.raises(NotFound):
            selectors.get_expert_for(outsider, expert.public_id)
    with pytest.raises(PermissionDenied):
        selectors.pool(users["bidder"])
    assert selectors.pool(users["regulator"], specialty="A01", region="520000").get() == pool[
        "guiyang_civil"]  # fmt: skip
