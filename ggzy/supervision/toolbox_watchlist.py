"""The "+1" of Kunming's toolbox: the watchlist (重点关注名单) checked when a listed entity or
person logs in, bids or is drawn.

Matching is exact after normalisation, never "similar": a watchlist hit attaches a subject to a
case, and a near-miss on Chinese company names (云南某某建设有限公司 vs 云南某某建筑有限公司)
is a different firm far more often than a disguise. So names are compared after a documented
normalisation only — Unicode NFKC (full-width letters, digits and brackets become ASCII),
case-folded, every space, punctuation mark and symbol removed, and the legal-form synonym
"有限责任公司" written "有限公司" — and must then be equal. Identifiers are normalised per kind:

- ``entity`` (统一社会信用代码) and ``person`` (居民身份证号码): spaces removed, upper case;
- ``phone``: digits only, a leading 86 / 0086 country code dropped from a mobile number;
- ``email``: trimmed, lower case;
- ``account`` (bank account): spaces and hyphens removed, upper case;
- ``ip``: the canonical address (an IPv4-mapped IPv6 address is its IPv4 address); an entry may
  be a network (``10.1.2.0/24``) that every address inside matches.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class WatchKind(StrEnum):
    ENTITY = "entity"
    PERSON = "person"
    PHONE = "phone"
    EMAIL = "email"
    ACCOUNT = "account"
    IP = "ip"
    ENTITY_NAME = "entity_name"
    PERSON_NAME = "person_name"


_NAMES = {WatchKind.ENTITY_NAME, WatchKind.PERSON_NAME}


@dataclass(frozen=True)
class WatchEntry:
    """One watchlist row: what is watched (``kind`` and ``value``) and why."""

    kind: str
    value: str
    reason: str
    entry_id: str = ""


@dataclass(frozen=True)
class WatchlistSettings:
    """``match_names``: also compare entity and person names (normalised, see the module
    docstring), default on. ``min_name_length``: a normalised name shorter than this (1–20,
    default 2) never matches — one character would match half the register."""

    match_names: bool = True
    min_name_length: int = 2

    def __post_init__(self) -> None:
        if not 1 <= self.min_name_length <= 20:
            raise ValueError(f"min_name_length must be in [1, 20], got {self.min_name_length!r}")


@dataclass(frozen=True)
class WatchHit:
    entry_id: str
    kind: WatchKind
    field: str  # the subject's key that matched, e.g. "phone" or "person:legal_representative"
    value: str  # the subject's value as given
    matched: str  # the normalised value (or the network) both sides agree on
    how: str  # "exact", "normalised", "network" or "name"
    reason: str


def _compact(value: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", value))


def normalise_name(value: str) -> str:
    text = unicodedata.normalize("NFKC", value).casefold()
    text = "".join(c for c in text if unicodedata.category(c)[0] not in "PSZC")
    return text.replace("有限责任公司", "有限公司")


def normalise_phone(value: str) -> str:
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", value))
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11 and digits[-11] == "1":
            return digits[len(prefix) :]
    return digits


_NORMALISE = {
    WatchKind.ENTITY: lambda v: _compact(v).upper(),
    WatchKind.PERSON: lambda v: _compact(v).upper(),
    WatchKind.PHONE: normalise_phone,
    WatchKind.EMAIL: lambda v: _compact(v).lower(),
    WatchKind.ACCOUNT: lambda v: _compact(v).replace("-", "").upper(),
    WatchKind.ENTITY_NAME: normalise_name,
    WatchKind.PERSON_NAME: normalise_name,
}


def _address(value: str) -> IpAddress | None:
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _kind(raw: str, where: str) -> WatchKind:
    try:
        return WatchKind(raw)
    except ValueError:
        allowed = ", ".join(k.value for k in WatchKind)
        raise ValueError(f"{where}: kind must be one of {allowed}, got {raw!r}") from None


class Watchlist:
    """The entries indexed once, to check many subjects (every login, every bid)."""

    def __init__(self, entries: Iterable[WatchEntry], settings: WatchlistSettings) -> None:
        self.settings = settings
        self._exact: dict[tuple[WatchKind, str], list[WatchEntry]] = defaultdict(list)
        self._networks: list[tuple[IpNetwork, WatchEntry]] = []
        for n, entry in enumerate(entries):
            kind = _kind(entry.kind, f"watchlist entry {n}")
            if kind is WatchKind.IP:
                try:
                    self._networks.append((ipaddress.ip_network(entry.value.strip()), entry))
                except ValueError:
                    raise ValueError(f"watchlist entry {n}: not an IP address or network "
                                     f"(host bits set?): {entry.value!r}") from None  # fmt: skip
                continue
            key: str = _NORMALISE[kind](entry.value)
            if not key:
                raise ValueError(f"watchlist entry {n}: the {kind} value is empty once normalised")
            if kind in _NAMES and len(key) < settings.min_name_length:
                raise ValueError(f"watchlist entry {n}: the name {entry.value!r} is shorter than "
                                 f"min_name_length ({settings.min_name_length})")  # fmt: skip
            self._exact[(kind, key)].append(entry)

    def _normalised(self, kind: WatchKind, value: str) -> str:
        key: str = _NORMALISE[kind](value)
        if kind in _NAMES and len(key) < self.settings.min_name_length:
            return ""
        return key

    def hits(self, subject: Mapping[str, str | Iterable[str] | None]) -> list[WatchHit]:
        """Hits for a subject whose keys are a kind (``"phone"``) or a kind and a label
        (``"person:legal_representative"``), each with one value or several."""
        out: list[WatchHit] = []
        for field, values in sorted(subject.items()):
            kind = _kind(field.partition(":")[0], f"subject field {field!r}")
            if values is None:
                continue
            for value in [values] if isinstance(values, str) else list(values):
                out += self._value_hits(kind, field, value)
        return sorted(out, key=lambda h: (h.field, h.entry_id, h.matched, h.reason))

    def _value_hits(self, kind: WatchKind, field: str, value: str) -> list[WatchHit]:
        if kind is WatchKind.IP:
            address = _address(value)
            if address is None:
                return []
            return [
                WatchHit(e.entry_id, kind, field, value, str(net),
                         "exact" if net.num_addresses == 1 else "network", e.reason)
                for net, e in self._networks if address in net
            ]  # fmt: skip
        if kind in _NAMES and not self.settings.match_names:
            return []
        key = self._normalised(kind, value)
        if not key:
            return []
        return [
            WatchHit(e.entry_id, kind, field, value, key, _how(kind, e.value, value), e.reason)
            for e in self._exact.get((kind, key), [])
        ]


def _how(kind: WatchKind, listed: str, given: str) -> str:
    if listed.strip() == given.strip():
        return "exact"
    return "name" if kind in _NAMES else "normalised"


def watchlist_hits(
    entries: Iterable[WatchEntry],
    subject: Mapping[str, str | Iterable[str] | None],
    settings: WatchlistSettings | None = None,
) -> list[WatchHit]:
    """The watchlist entries a subject (a login, a bid, an expert draw) matches, with the field
    that matched. To check many subjects against one list, build a :class:`Watchlist` once."""
    return Watchlist(entries, settings or WatchlistSettings()).hits(subject)
