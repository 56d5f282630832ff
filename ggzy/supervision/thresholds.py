"""The groups of thresholds a regulator tunes, each validated by the module that uses it, with its
defaults; the values in force are the defaults overlaid by what was set (``Setting``)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ggzy.accounts.gate import require
from ggzy.supervision import services
from ggzy.supervision.models import Setting
from ggzy.supervision.screens import Thresholds


@dataclass(frozen=True)
class Alerting:
    """When a section's screens raise an alert: a combined risk score of at least
    ``screens_min_score`` (0–100) from at least ``screens_min_flagged`` flagged screens."""

    screens_min_score: float = 50.0
    screens_min_flagged: int = 3

    def __post_init__(self) -> None:
        score = self.screens_min_score
        if (
            isinstance(score, bool)
            or not isinstance(score, int | float)
            or not (math.isfinite(score) and 0 <= score <= 100)
        ):
            raise ValueError("screens_min_score: a number from 0 to 100")
        flagged = self.screens_min_flagged
        if isinstance(flagged, bool) or not isinstance(flagged, int) or not 1 <= flagged <= 10:
            raise ValueError("screens_min_flagged: a whole number from 1 to 10")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Alerting:
        unknown = sorted(set(data) - {"screens_min_score", "screens_min_flagged"})
        if unknown:
            raise ValueError(f"{unknown[0]}: unknown setting; allowed: screens_min_score, "
                             "screens_min_flagged")  # fmt: skip
        return cls(**dict(data))

    def as_dict(self) -> dict[str, Any]:
        return {"screens_min_score": self.screens_min_score,
                "screens_min_flagged": self.screens_min_flagged}  # fmt: skip


@dataclass(frozen=True)
class Group:
    name: str
    description: str
    parse: Callable[[Mapping[str, Any]], Any]  # mapping → validated settings object
    dump: Callable[[Any], dict[str, Any]]


GROUPS: dict[str, Group] = {}


def register(group: Group) -> None:
    GROUPS[group.name] = group
    services.register_setting(group.name, group.description,
                              lambda value: group.dump(group.parse(value)))  # fmt: skip


register(Group("screens", "报价统计筛查阈值与权重 (bid-price screens: thresholds and weights)",
               Thresholds.from_mapping, Thresholds.as_dict))  # fmt: skip
register(Group("alerting", "何时预警 (when a section's screens raise an alert)",
               Alerting.from_mapping, Alerting.as_dict))  # fmt: skip


def current(name: str) -> Any:
    """The validated settings object of group ``name`` now in force."""
    group = GROUPS[name]
    return group.parse(services.setting_value(name))


def describe(actor: Any) -> list[dict[str, Any]]:
    require(actor, "supervision.view")
    rows = {s.name: s for s in Setting.objects.filter(name__in=GROUPS)}
    out = []
    for name, group in GROUPS.items():
        row = rows.get(name)
        out.append({"name": name, "description": group.description,
                    "values": group.dump(group.parse(row.value if row else {})),
                    "defaults": group.dump(group.parse({})),
                    "version": row.version if row else 0,
                    "updated_at": row.updated_at if row else None})  # fmt: skip
    return out
