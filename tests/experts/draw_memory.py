"""An in-memory pool for the selection engine (``draw_select``): the same ``Source`` protocol as
the live pool (``draw_pool.PoolSource``) and the record (``draw_select.RecordSource``), over a
plain list of experts — so the engine's properties (avoidance, uniformity, batch independence)
are tested over thousands of draws without a database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ggzy.experts import draw_select
from ggzy.experts.draw_select import StratumSpec


@dataclass
class Person:
    id: int
    region: str
    specialties: frozenset[int]
    employer: int
    drawable: bool = True
    unavailable: bool = False
    declared: tuple[int, ...] = ()
    represents: tuple[int, ...] = ()
    served: tuple[str, ...] = ()
    previous: bool = False

    def facts(self) -> dict[str, Any]:
        return {
            "employer": self.employer,
            "region": self.region,
            "declared": sorted(self.declared),
            "represents": sorted(self.represents),
            "unavailable": self.unavailable,
            "served": sorted(self.served),
            "previous": self.previous,
        }


@dataclass
class MemoryPool:
    people: list[Person]
    force: str = ""  # "list" or "ids": override the way a stratum starts
    reads: dict[str, int] = field(default_factory=lambda: {"hits": 0, "facts": 0})

    @property
    def max_id(self) -> int:
        return max((p.id for p in self.people), default=0)

    def candidates(self, spec: StratumSpec) -> list[Person]:
        include = set(spec.include) if spec.include is not None else None
        exclude = set(spec.exclude)
        return sorted(
            (
                p
                for p in self.people
                if p.drawable
                and p.specialties & set(spec.specialties)
                and (include is None or p.region in include)
                and p.region not in exclude
            ),
            key=lambda p: p.id,
        )

    def source(self, spec: StratumSpec) -> MemorySource:
        return MemorySource(self, spec)


class MemorySource:
    def __init__(self, pool: MemoryPool, spec: StratumSpec) -> None:
        self.pool, self.spec = pool, spec
        self.by_id = {p.id: p for p in pool.people}
        self.ids = {p.id for p in pool.candidates(spec)}

    def method(self) -> str:
        if self.pool.force:
            return self.pool.force
        return "list" if len(self.ids) <= draw_select.LIST_MAX else "ids"

    def list_ids(self) -> list[int]:
        return sorted(self.ids)

    def max_id(self) -> int:
        return self.pool.max_id

    def hits(self, ids: list[int]) -> set[int]:
        self.pool.reads["hits"] += 1
        return {v for v in ids if v in self.ids}

    def facts(self, ids: list[int]) -> dict[int, dict[str, Any]]:
        self.pool.reads["facts"] += 1
        return {v: self.by_id[v].facts() for v in ids if v in self.by_id}
