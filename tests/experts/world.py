"""A small expert-pool world for the expert tests and the API matrices: a taxonomy (works and
goods), an employer entity, center staff, an expert account — and fresh experts in any state,
made through the services."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from ggzy.accounts.models import User
from ggzy.core import clock
from ggzy.core.identifiers import make_resident_id
from ggzy.experts import services, taxonomy
from ggzy.experts.checks import ExpertData
from ggzy.experts.models import DeclaredConflict, Expert, Unavailability
from ggzy.registry.models import Entity

TAXONOMY = [
    ("A", "工程类", True),
    ("A01", "房屋建筑工程", None),
    ("A01.01", "土建", None),
    ("A01.02", "给排水及安装", None),
    ("A02", "市政工程", None),
    ("B", "货物类", False),
    ("B01", "信息化设备", None),
]
_numbers = itertools.count(1)


def resident_id(n: int) -> str:
    """A valid resident ID numbered ``n`` (distinct within any 30 000 consecutive n)."""
    return make_resident_id(f"320102{1960 + n % 30}0101{n // 30 % 1000:03d}"[:17])


def next_id() -> str:
    return resident_id(next(_numbers) + 40_000)


def install_taxonomy(actor: Any) -> None:
    for code, name, works in TAXONOMY:
        taxonomy.create_specialty(actor=actor, code=code, name=name, is_works=works)


def expert_data(entity: Entity, **overrides: Any) -> ExpertData:
    values: dict[str, Any] = {
        "name": "王专家",
        "resident_id": next_id(),
        "phone": "13900000001",
        "title_level": "associate_senior",
        "title_name": "高级工程师",
        "years_in_field": 12,
        "employer": entity.uscc,
        "region": "320100",
        "primary_specialty": "A01.01",
        "other_specialties": ["A02"],
    }
    values.update(overrides)
    return ExpertData(**values)


@dataclass
class ExpertWorld:
    staff: User  # center admin: keeps the pool and the taxonomy
    owner: User  # an expert account: the experts this world makes are theirs unless told
    employer: Entity
    made: list[Expert] = field(default_factory=list)

    def data(self, **overrides: Any) -> ExpertData:
        return expert_data(self.employer, **overrides)

    def pending(self, owner: User | None = None, **overrides: Any) -> Expert:
        """An application of ``owner`` (default: the world's expert account)."""
        return services.apply(actor=owner or self.owner, data=self.data(**overrides))

    def active(self, *, owned: bool = True, **overrides: Any) -> Expert:
        if owned and not Expert.objects.filter(user=self.owner).exists():
            return services.approve_application(actor=self.staff, expert=self.pending(**overrides))
        return services.register_expert(actor=self.staff, data=self.data(**overrides))

    def unlinked(self) -> Expert:
        """An expert staff entered without an account (as an import does)."""
        return self.active(owned=False)

    def spare_account(self) -> User:
        """An expert account linked to no expert."""
        from tests.conftest import make_user

        return make_user(f"spare_expert_{next(_numbers)}", "expert")

    def suspended(self, **overrides: Any) -> Expert:
        expert = self.active(**overrides)
        return services.suspend_expert(actor=self.staff, expert=expert, reason="多次迟到")

    def period(self) -> Unavailability:
        today = clock.today()
        return services.add_unavailability(
            actor=self.staff, expert=self.active(), start=today + timedelta(days=3),
            end=today + timedelta(days=5), reason="出差",
        )  # fmt: skip

    def conflict(self, entity: Entity | None = None) -> DeclaredConflict:
        return services.declare_conflict(actor=self.staff, expert=self.active(),
                                         entity=entity or self.employer, reason="原单位")  # fmt: skip


class MatrixExpertWorld(ExpertWorld):
    """For the permission matrix, which may walk every refused actor in one world: a refusal
    changes nothing, so each caller gets the same record while it is still in the state asked
    for — and the first record made is the expert account's, so "expert" always sees its own."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cache: dict[str, Any] = {}

    def _reuse(self, key: str, make: Any, still: Any) -> Any:
        row = self.cache.get(key)
        if row is not None:
            try:
                row.refresh_from_db()
            except type(row).DoesNotExist:
                row = None
        if row is None or not still(row):
            row = self.cache[key] = make()
        return row

    def pending(self, owner: User | None = None, **overrides: Any) -> Expert:
        if owner is not None or overrides:
            return super().pending(owner, **overrides)
        return self._reuse("pending", super().pending, lambda e: e.status == "pending")  # type: ignore[no-any-return]

    def active(self, *, owned: bool = True, **overrides: Any) -> Expert:
        if not owned or overrides:
            return super().active(owned=owned, **overrides)
        return self._reuse("active", super().active, lambda e: e.status == "active")  # type: ignore[no-any-return]

    def suspended(self, **overrides: Any) -> Expert:
        if overrides:
            return super().suspended(**overrides)
        return self._reuse("suspended", super().suspended, lambda e: e.status == "suspended")  # type: ignore[no-any-return]

    def period(self) -> Unavailability:
        return self._reuse("period", super().period, lambda p: True)  # type: ignore[no-any-return]

    def unlinked(self) -> Expert:
        return self._reuse("unlinked", super().unlinked, lambda e: e.user_id is None)  # type: ignore[no-any-return]

    def spare_account(self) -> User:
        return self._reuse(  # type: ignore[no-any-return]
            "spare", super().spare_account, lambda u: not Expert.objects.filter(user=u).exists()
        )

    def conflict(self, entity: Entity | None = None) -> DeclaredConflict:
        if entity is not None:
            return super().conflict(entity)
        return self._reuse("conflict", super().conflict, lambda c: c.withdrawn_at is None)  # type: ignore[no-any-return]


def for_cast(cast: Any) -> ExpertWorld:
    """The expert world of the permission matrix's cast, made on first use: center admin keeps
    the pool; the experts it makes are the ``expert`` role user's; the cast's entity employs."""
    if "_expert_world" not in cast.__dict__:
        install_taxonomy(cast.users["center_admin"])
        cast.__dict__["_expert_world"] = MatrixExpertWorld(
            staff=cast.users["center_admin"], owner=cast.users["expert"], employer=cast.entity
        )
    return cast.__dict__["_expert_world"]  # type: ignore[no-any-return]


def for_world(world: Any) -> ExpertWorld:
    """The same for the error matrix's world: omni (every role) keeps the pool; the experts are
    another expert account's, so omni never acts on its own record."""
    if "_expert_world" not in world.__dict__:
        from tests.conftest import make_user

        install_taxonomy(world.omni)
        world.__dict__["_expert_world"] = ExpertWorld(
            staff=world.omni, owner=make_user("xw_expert", "expert"), employer=world.entity
        )
    return world.__dict__["_expert_world"]  # type: ignore[no-any-return]


def body(data: ExpertData, **extra: Any) -> dict[str, Any]:
    """An ``ExpertData`` as the API takes it."""
    from dataclasses import asdict

    return asdict(data) | extra


def xlsx_file(world: ExpertWorld) -> bytes:
    from tests.experts import xlsx

    return xlsx.workbook([xlsx.row(world.employer.uscc)])
