"""The demo pool: a taxonomy, about 60 experts in several regions, zhuanjia among them."""

from __future__ import annotations

from ggzy.core import clock
from ggzy.experts import selectors
from ggzy.experts.demo import POOL_SIZE, load_demo_experts
from ggzy.experts.models import Expert
from ggzy.registry.demo import load_demo


def test_demo_pool(db, frozen_clock):  # type: ignore[no-untyped-def]
    load_demo()
    first = load_demo_experts()
    assert first.created and first.experts == POOL_SIZE + 2
    assert Expert.objects.get(user__username="zhuanjia").status == "active"
    assert Expert.objects.filter(status="pending").count() == 2
    assert len({e.region_id for e in Expert.objects.all()}) >= 6
    day = clock.today()
    assert selectors.draw_candidates(specialties=["A"], day=day, regions=["520000"]).count() > 3
    assert selectors.draw_candidates(specialties=["A"], day=day, regions=["320000"]).count() > 10
    assert not load_demo_experts().created
