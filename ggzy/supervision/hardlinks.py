"""Hard links between the bidders of one section (or project): 条例40's "deemed collusion" cases
that identity data alone can show, and 条例34's related bidders (R48).

- R50 / 条例40(1): the same authoring machine — the same (CPU, MAC, disk) triple in the bids of
  different bidders (Fujian's V_BD_HARDWARE rule). A shared MAC, disk or CPU alone is reported
  separately as weaker evidence (a cloned virtual machine, a borrowed network card).
- 条例40(2): the same agent handled the bids; the same upload IP is weaker evidence of it (an
  office building or a carrier's NAT shares one address).
- 条例40(3): the same project manager; 87号令37(3) adds the same contact person, a hard link in
  government procurement and soft evidence elsewhere.
- 条例40(6): bid deposits paid from the same account.
- R48 / 条例34: the same legal representative, or one bidder controlling another: the rule voids
  all their bids, and the link says so. Two bidders under one controller that is not itself a
  bidder are not covered by 条例34 (it names direct control or management only), so that is soft.

Values are compared after normalisation (trimmed, case-insensitive; MACs as bare hex; IPs in
canonical form; accounts without spaces or hyphens; contacts as digits-only phones or lower-case
e-mails). Placeholders identify nothing and never link: Fujian's '-', '/', '无', '暂无', the empty
string, and what the client's :func:`ggzy_client.fingerprint.is_placeholder` rejects (all zeros,
one repeated character, "To be filled by O.E.M."…). A bidder appearing in several rows (bids on
several sections of a project) is one bidder: it never links with itself.

Personal values are masked in the output — accounts, phones, ID numbers all but the last 4 —
while a firm's USCC, machine identifiers and IPs are shown: the regulator needs them to check.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from typing import Any

from ggzy.core.identifiers import IdentifierError, validate_resident_id, validate_uscc
from ggzy.supervision.toolbox_watchlist import normalise_phone
from ggzy_client.fingerprint import is_placeholder

PLACEHOLDERS = frozenset({"", "-", "/", "无", "暂无"})  # R50, as Fujian's views exclude them
KINDS = (
    "machine",
    "same_cpu",
    "same_mac",
    "same_disk",
    "upload_ip",
    "deposit_account",
    "agent",
    "project_manager",
    "contact",
    "legal_representative",
    "control",
    "common_controller",
)
_MULTI = ("macs", "disk_serials", "upload_ips", "deposit_accounts", "agents", "project_managers",
          "contacts", "controller_ids")  # fmt: skip


@dataclass(frozen=True)
class BidIdentity:
    """What one bid says about who made it. Multi-valued fields take a tuple (a machine has
    several MACs and disks; a string is taken as one value)."""

    bidder_id: str  # USCC
    cpu_id: str | None = None
    macs: tuple[str, ...] = ()
    disk_serials: tuple[str, ...] = ()
    upload_ips: tuple[str, ...] = ()
    deposit_accounts: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()  # who handled the bid: the agency's USCC or a person's ID number
    project_managers: tuple[str, ...] = ()  # ID numbers (or certificate numbers)
    contacts: tuple[str, ...] = ()  # contact persons' phones or e-mails
    legal_representative_id: str | None = None
    controller_ids: tuple[str, ...] = ()  # USCCs or ID numbers of who controls the bidder

    def __post_init__(self) -> None:
        for name in _MULTI:
            value = getattr(self, name)
            object.__setattr__(self, name, (value,) if isinstance(value, str) else tuple(value))


def machine_fields(machine: dict[str, Any]) -> dict[str, Any]:
    """The :class:`BidIdentity` fields from an envelope manifest's ``machine`` object (written by
    :func:`ggzy_client.fingerprint.collect`: ``cpu_serial``, ``macs``, ``disk_serials``)."""

    def strings(value: Any) -> tuple[str, ...]:
        items = value if isinstance(value, list) else [value]
        return tuple(v for v in items if isinstance(v, str))

    cpu = machine.get("cpu_serial")
    return {
        "cpu_id": cpu if isinstance(cpu, str) else None,
        "macs": strings(machine.get("macs", [])),
        "disk_serials": strings(machine.get("disk_serials", [])),
    }


class Strength(StrEnum):
    HARD = "hard"  # the rule itself deems it collusion (or voids the bids)
    SOFT = "soft"  # evidence for a case, not a finding


@dataclass(frozen=True)
class Link:
    kind: str
    rule: str
    bidders: tuple[str, ...]  # sorted, at least two
    value: str  # what they share, masked where personal; several values joined by ", "
    strength: Strength
    voids_bids: bool = False  # R48: the rule voids every bid of these bidders


@dataclass(frozen=True)
class HardLinkSettings:
    """``ignored_ips``: addresses or networks that never link (the trading centre's own terminals
    and egress, a known carrier NAT). ``government_procurement``: the section is government
    procurement, where 87号令37(3) makes a shared contact person a hard link."""

    ignored_ips: tuple[str, ...] = ()
    government_procurement: bool = False
    _networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = field(
        default=(), init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        networks = []
        for value in self.ignored_ips:
            try:
                networks.append(ipaddress.ip_network(value.strip(), strict=False))
            except ValueError:
                raise ValueError(
                    f"ignored_ips must hold IP addresses or networks, got {value!r}"
                ) from None
        object.__setattr__(self, "_networks", tuple(networks))

    def ignores(self, ip: str) -> bool:
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(address in network for network in self._networks)


def _blank(value: str) -> bool:
    return value.strip().casefold() in PLACEHOLDERS or is_placeholder(value)


def _text(value: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", value).split()).casefold()


def _ident(value: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", value)).upper()


def _mac(value: str) -> str:
    bare = re.sub(r"[^0-9a-f]", "", value.casefold())
    return bare if len(bare) == 12 else _text(value)


def _ip(value: str) -> str:
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return _text(value)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


def _account(value: str) -> str:
    return _ident(value).replace("-", "")


def _contact(value: str) -> str:
    return _text(value) if "@" in value else normalise_phone(value)


def _clean(values: Iterable[str | None], normalise: Callable[[str], str]) -> set[str]:
    """The normalised values that identify something (a placeholder before or after)."""
    kept = (normalise(v) for v in values if v is not None and not _blank(v))
    return {v for v in kept if not _blank(v)}


def mask(value: str, keep: int = 4) -> str:
    """All but the last ``keep`` characters hidden; the length is hidden too."""
    return "****" + value[-keep:] if len(value) > keep else "*" * len(value)


def mask_email(value: str) -> str:
    local, _, domain = value.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_unless_firm(value: str) -> str:
    """A firm's USCC is public (it is on the business licence); anything else may be a person.
    An 18-digit resident ID passes the USCC check one time in 31, so that is tested first."""
    try:
        validate_resident_id(value)
    except IdentifierError:
        pass
    else:
        return mask(value)
    try:
        validate_uscc(value)
    except IdentifierError:
        return mask(value)
    return value


def _shown(value: str) -> str:
    return value


def _groups(
    bids: Iterable[BidIdentity], values: Callable[[BidIdentity], set[str]]
) -> dict[str, set[str]]:
    """{value: the bidders whose bids carry it}, only values shared by two or more bidders."""
    by_value: dict[str, set[str]] = defaultdict(set)
    for bid in bids:
        for v in values(bid):
            by_value[v].add(_ident(bid.bidder_id))
    return {v: b for v, b in by_value.items() if len(b) > 1}


def _links(
    kind: str,
    rule: str,
    strength: Strength,
    groups: dict[str, set[str]],
    show: Callable[[str], str],
    *,
    voids_bids: bool = False,
) -> list[Link]:
    """One link per group of bidders: several shared values (a laptop's two MACs) are one link."""
    merged: dict[frozenset[str], set[str]] = defaultdict(set)
    for value, bidders in groups.items():
        merged[frozenset(bidders)].add(value)
    return [
        Link(kind, rule, tuple(sorted(bidders)), ", ".join(show(v) for v in sorted(values)),
             strength, voids_bids)
        for bidders, values in merged.items()
    ]  # fmt: skip


def _machine_parts(bid: BidIdentity) -> tuple[set[str], set[str], set[str]]:
    return _clean([bid.cpu_id], _text), _clean(bid.macs, _mac), _clean(bid.disk_serials, _text)


def _machine_triples(bid: BidIdentity) -> set[str]:
    cpus, macs, disks = _machine_parts(bid)
    return {"\x1f".join((c, m, d)) for c in cpus for m in macs for d in disks}


def _machine_links(bids: list[BidIdentity]) -> list[Link]:
    """Full triples first (one link per machine: its MACs and disks merged); then a CPU, MAC or
    disk shared by bidders not already linked through a triple that contains it."""
    machines: dict[tuple[frozenset[str], str], tuple[set[str], set[str]]] = {}
    for triple, bidders in _groups(bids, _machine_triples).items():
        cpu, mac, disk = triple.split("\x1f")
        macs, disks = machines.setdefault((frozenset(bidders), cpu), (set(), set()))
        macs.add(mac)
        disks.add(disk)
    out = [
        Link("machine", "R50; 条例40(1)", tuple(sorted(bidders)),
             f"cpu={cpu}; mac={','.join(sorted(macs))}; disk={','.join(sorted(disks))}",
             Strength.HARD)
        for (bidders, cpu), (macs, disks) in machines.items()
    ]  # fmt: skip
    covering = [({cpu}, macs, disks, bidders) for (bidders, cpu), (macs, disks) in machines.items()]
    for position, kind in enumerate(("same_cpu", "same_mac", "same_disk")):
        groups = _groups(bids, partial(_machine_part, position))
        weaker = {
            value: bidders
            for value, bidders in groups.items()
            if not any(bidders <= m[3] and value in m[position] for m in covering)
        }
        out += _links(kind, "R50 (partial); 条例40(1)", Strength.SOFT, weaker, _shown)
    return out


def _machine_part(position: int, bid: BidIdentity) -> set[str]:
    return _machine_parts(bid)[position]


def _related_links(bids: list[BidIdentity]) -> list[Link]:
    rule = "R48; 条例34"
    reps = _groups(bids, lambda b: _clean([b.legal_representative_id], _ident))
    out = _links("legal_representative", rule, Strength.HARD, reps, mask, voids_bids=True)
    bidders = {_ident(b.bidder_id) for b in bids}
    pairs: dict[frozenset[str], set[str]] = defaultdict(set)
    common: dict[str, set[str]] = defaultdict(set)
    for bid in bids:
        me = _ident(bid.bidder_id)
        for controller in _clean(bid.controller_ids, _ident) - {me}:
            if controller in bidders:
                pairs[frozenset({controller, me})].add(f"{controller} → {me}")
            else:
                common[controller].add(me)
    out += [
        Link("control", rule, tuple(sorted(pair)), ", ".join(sorted(how)), Strength.HARD, True)
        for pair, how in pairs.items()
    ]
    shared = {c: b for c, b in common.items() if len(b) > 1}
    return out + _links("common_controller", "R48 (not 条例34)", Strength.SOFT, shared,
                        mask_unless_firm)  # fmt: skip


def hard_links(bids: Iterable[BidIdentity], settings: HardLinkSettings | None = None) -> list[Link]:
    """Every link between different bidders of one section (or project), hard ones first."""
    settings = settings or HardLinkSettings()
    rows = list(bids)
    contact_strength = Strength.HARD if settings.government_procurement else Strength.SOFT

    def ips(bid: BidIdentity) -> set[str]:
        return {ip for ip in _clean(bid.upload_ips, _ip) if not settings.ignores(ip)}

    def contacts(value: str) -> str:
        return mask_email(value) if "@" in value else mask(value)

    out = _machine_links(rows) + _related_links(rows)
    simple: list[tuple[str, str, Strength, Callable[[BidIdentity], set[str]], Callable[..., str]]]
    simple = [
        ("upload_ip", "条例40(2)", Strength.SOFT, ips, _shown),
        ("deposit_account", "条例40(6)", Strength.HARD,
         lambda b: _clean(b.deposit_accounts, _account), mask),
        ("agent", "条例40(2)", Strength.HARD, lambda b: _clean(b.agents, _ident), mask_unless_firm),
        ("project_manager", "条例40(3)", Strength.HARD,
         lambda b: _clean(b.project_managers, _ident), mask_unless_firm),
        ("contact", "87号令37(3)", contact_strength, lambda b: _clean(b.contacts, _contact),
         contacts),
    ]  # fmt: skip
    for kind, rule, strength, values, show in simple:
        out += _links(kind, rule, strength, _groups(rows, values), show)
    return sorted(out, key=lambda k: (k.strength != Strength.HARD, KINDS.index(k.kind), k.bidders,
                                      k.value))  # fmt: skip
