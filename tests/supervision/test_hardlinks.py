"""条例40 hard links and R48 related bidders between the bids of one section."""

from __future__ import annotations

from typing import Any

import pytest

from ggzy.core.identifiers import make_resident_id, make_uscc, validate_uscc
from ggzy.supervision.hardlinks import (
    BidIdentity,
    HardLinkSettings,
    Link,
    Strength,
    hard_links,
    machine_fields,
    mask,
    mask_unless_firm,
)

A, B, C, D, E = (make_uscc(f"9153010{n:010d}") for n in range(1, 6))
AGENCY = make_uscc("91530100000000099")
PERSON = make_resident_id("53010219800101123")
PERSON2 = make_resident_id("53010219810202456")


def _kinds(links: list[Link]) -> list[tuple[str, tuple[str, ...]]]:
    return [(k.kind, k.bidders) for k in links]


def test_same_machine_triple_is_a_hard_link_and_hides_its_partial_matches() -> None:
    bids = [
        BidIdentity(A, cpu_id="BFEBFBFF000906EA", macs=("AA:BB:CC:DD:EE:01",), disk_serials=("WD-1",)),
        BidIdentity(B, cpu_id=" bfebfbff000906ea", macs=("aa-bb-cc-dd-ee-01", "aa:bb:cc:dd:ee:09"),
                    disk_serials=("wd-1",)),
    ]  # fmt: skip
    links = hard_links(bids)
    assert links == [
        Link("machine", "R50; 条例40(1)", (A, B),
             "cpu=bfebfbff000906ea; mac=aabbccddee01; disk=wd-1", Strength.HARD),
    ]  # fmt: skip


def test_partial_machine_matches_are_soft_and_separate() -> None:
    bids = [
        BidIdentity(A, cpu_id="cpu-a", macs=("aa:bb:cc:dd:ee:02",), disk_serials=("D1",)),
        BidIdentity(B, cpu_id="cpu-b", macs=("AA:BB:CC:DD:EE:02",), disk_serials=("D2",)),
        BidIdentity(C, cpu_id="cpu-c", macs=("aa:bb:cc:dd:ee:03",), disk_serials=("D2",)),
        BidIdentity(D, cpu_id="cpu-c", macs=("aa:bb:cc:dd:ee:04",), disk_serials=("D4",)),
    ]
    links = hard_links(bids)
    assert [(k.kind, k.bidders, k.value, k.strength) for k in links] == [
        ("same_cpu", (C, D), "cpu-c", Strength.SOFT),
        ("same_mac", (A, B), "aabbccddee02", Strength.SOFT),
        ("same_disk", (B, C), "d2", Strength.SOFT),
    ]
    assert all(k.rule == "R50 (partial); 条例40(1)" for k in links)


def test_a_partial_match_outside_the_shared_machine_is_still_reported() -> None:
    """A and B share a whole machine; C shares only its MAC: the MAC link names all three."""
    m: dict[str, Any] = {"cpu_id": "x1", "macs": ("aa:bb:cc:dd:ee:05",), "disk_serials": ("S1",)}
    bids = [BidIdentity(A, **m), BidIdentity(B, **m),
            BidIdentity(C, cpu_id="x2", macs=m["macs"], disk_serials=("S3",))]  # fmt: skip
    assert _kinds(hard_links(bids)) == [("machine", (A, B)), ("same_mac", (A, B, C))]


@pytest.mark.parametrize("placeholder", ["-", "/", "无", "暂无", "", "  ", "To Be Filled By O.E.M.",
                                         "00:00:00:00:00:00", "NULL", "ffffffffffff"])  # fmt: skip
def test_placeholders_never_link(placeholder: str) -> None:
    everything: dict[str, Any] = {
        "cpu_id": placeholder, "macs": (placeholder,), "disk_serials": (placeholder,),
        "upload_ips": (placeholder,), "deposit_accounts": (placeholder,), "agents": (placeholder,),
        "project_managers": (placeholder,), "contacts": (placeholder,),
        "legal_representative_id": placeholder, "controller_ids": (placeholder,),
    }  # fmt: skip
    assert hard_links([BidIdentity(A, **everything), BidIdentity(B, **everything)]) == []


def test_placeholder_in_one_part_leaves_only_the_partial_matches() -> None:
    bids = [BidIdentity(x, cpu_id="无", macs=("aa:bb:cc:dd:ee:06",), disk_serials=("K1",))
            for x in (A, B)]  # fmt: skip
    assert _kinds(hard_links(bids)) == [("same_mac", (A, B)), ("same_disk", (A, B))]


def test_the_same_bidder_twice_is_not_a_link() -> None:
    same: dict[str, Any] = {"cpu_id": "c", "macs": ("aa:bb:cc:dd:ee:07",), "disk_serials": ("d",),
            "upload_ips": ("198.51.100.4",), "deposit_accounts": ("6222020012345678",),
            "legal_representative_id": PERSON, "controller_ids": (A,)}  # fmt: skip
    assert hard_links([BidIdentity(A, **same), BidIdentity(A.lower(), **same)]) == []


def test_upload_ip_is_soft_and_ignorable() -> None:
    bids = [BidIdentity(A, upload_ips=("198.51.100.4",)),
            BidIdentity(B, upload_ips=("::ffff:198.51.100.4", "203.0.113.1")),
            BidIdentity(C, upload_ips=("203.0.113.1",))]  # fmt: skip
    links = hard_links(bids)
    assert [(k.kind, k.rule, k.bidders, k.value, k.strength) for k in links] == [
        ("upload_ip", "条例40(2)", (A, B), "198.51.100.4", Strength.SOFT),
        ("upload_ip", "条例40(2)", (B, C), "203.0.113.1", Strength.SOFT),
    ]
    quiet = HardLinkSettings(ignored_ips=("203.0.113.0/24", "198.51.100.4"))
    assert hard_links(bids, quiet) == []


def test_deposit_account_agent_and_project_manager() -> None:
    bids = [
        BidIdentity(A, deposit_accounts=("6222 0200 1234 5678",), agents=(AGENCY,),
                    project_managers=(PERSON,)),
        BidIdentity(B, deposit_accounts=("6222-0200-1234-5678",), agents=(AGENCY.lower(),)),
        BidIdentity(C, deposit_accounts=("6222020012345678",), project_managers=(PERSON.lower(),)),
    ]  # fmt: skip
    links = hard_links(bids)
    assert (
        [(k.kind, k.rule, k.bidders, k.value, k.strength) for k in links]
        == [
            ("deposit_account", "条例40(6)", (A, B, C), "****5678", Strength.HARD),
            ("agent", "条例40(2)", (A, B), AGENCY, Strength.HARD),  # a firm's USCC is shown
            ("project_manager", "条例40(3)", (A, C), "****" + PERSON[-4:], Strength.HARD),
        ]
    )


def test_contact_person_is_hard_in_government_procurement() -> None:
    bids = [BidIdentity(A, contacts=("138-0013-8000", "X@Example.com")),
            BidIdentity(B, contacts=("+86 13800138000",)),
            BidIdentity(C, contacts=("x@example.com ",))]  # fmt: skip
    soft = hard_links(bids)
    assert [(k.kind, k.rule, k.bidders, k.value, k.strength) for k in soft] == [
        ("contact", "87号令37(3)", (A, B), "****8000", Strength.SOFT),
        ("contact", "87号令37(3)", (A, C), "x***@example.com", Strength.SOFT),
    ]
    hard = hard_links(bids, HardLinkSettings(government_procurement=True))
    assert {k.strength for k in hard} == {Strength.HARD}


def test_related_bidders_void_their_bids() -> None:
    bids = [
        BidIdentity(A, legal_representative_id=PERSON),
        BidIdentity(B, legal_representative_id=PERSON.lower(), controller_ids=(PERSON2,)),
        BidIdentity(C, controller_ids=(A, PERSON2)),
        BidIdentity(E),
    ]
    links = hard_links(bids)
    assert [(k.kind, k.rule, k.bidders, k.value, k.strength, k.voids_bids) for k in links] == [
        ("legal_representative", "R48; 条例34", (A, B), "****" + PERSON[-4:], Strength.HARD, True),
        ("control", "R48; 条例34", (A, C), f"{A} → {C}", Strength.HARD, True),
        ("common_controller", "R48 (not 条例34)", (B, C), "****" + PERSON2[-4:], Strength.SOFT,
         False),
    ]  # fmt: skip


def test_masking() -> None:
    assert mask("6222020012345678") == "****5678"
    assert mask("1234") == "****"
    assert mask("12") == "**"


def test_machine_fields_from_a_manifest() -> None:
    machine = {"machine_id": "m", "macs": ["aa:bb:cc:dd:ee:08"], "cpu_serial": "uuid-1",
               "disk_serials": ["WD-9", 7], "tool_version": "1.0"}  # fmt: skip
    assert machine_fields(machine) == {
        "cpu_id": "uuid-1", "macs": ("aa:bb:cc:dd:ee:08",), "disk_serials": ("WD-9",),
    }  # fmt: skip
    assert machine_fields({}) == {"cpu_id": None, "macs": (), "disk_serials": ()}
    bids = [BidIdentity(x, **machine_fields(machine)) for x in (A, B)]
    assert _kinds(hard_links(bids)) == [("machine", (A, B))]


def test_bad_settings() -> None:
    with pytest.raises(ValueError, match="ignored_ips must hold IP addresses"):
        HardLinkSettings(ignored_ips=("not-an-ip",))


def test_a_resident_id_that_passes_the_uscc_check_is_still_masked() -> None:
    assert validate_uscc(PERSON) == PERSON  # 1 in 31 resident IDs does
    assert mask_unless_firm(PERSON) == "****" + PERSON[-4:]
    assert mask_unless_firm(AGENCY) == AGENCY
    assert mask_unless_firm("ZJ-PM-0042") == "****0042"
