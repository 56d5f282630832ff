"""The projector: the public records follow the ledger, each change with the next feed position,
a record public only later held back until it is due, and nothing secret in any record."""

from __future__ import annotations

import json
from datetime import date

import pytest

from ggzy.award import services, services_contract
from ggzy.disclosure import projector
from ggzy.disclosure.models import PendingRelease, ProjectorState, PublicRecord
from ggzy.evaluation.models import CommitteeMember
from tests.award import world as w
from tests.award.world import cn, days


@pytest.fixture
def world(db, region, frozen_clock):  # type: ignore[no-untyped-def]
    return w.signed_world(frozen_clock)


def records() -> dict[str, PublicRecord]:
    return {r.key: r for r in PublicRecord.objects.order_by("seq")}


def kinds() -> list[str]:
    return sorted({r.kind for r in PublicRecord.objects.all()})


def everything_public() -> str:
    """Every byte a reader of the records can get."""
    return json.dumps([[r.title, r.body, r.search_text, r.data] for r in records().values()],
                      ensure_ascii=False)  # fmt: skip


def test_an_opened_section_is_disclosed_with_its_announcement_opening_record_and_entities(
    world,
) -> None:  # type: ignore[no-untyped-def]
    out = projector.catch_up()
    assert out.written == len(PublicRecord.objects.all()) > 0
    project, section = world.section.project, world.section
    found = records()
    announcement = found[f"announcement:{project.public_id}"]
    assert announcement.kind == "announcement" and announcement.title == project.name
    assert announcement.category == "works" and announcement.region == project.region_id
    assert announcement.status == "opened" and announcement.url == f"/projects/{project.public_id}/"
    assert announcement.data["sections"][0]["code"] == section.code
    opening = found[f"opening:{section.public_id}"]
    prices = sorted(b["price"] for b in opening.data["record"]["bids"])
    assert prices == sorted(w.PRICES)  # the signed opening record, as the project page shows it
    for bidder in world.bidders:
        assert found[f"entity:{bidder.entity.uscc}"].title == bidder.entity.name
    # positions are 1..n in the order written; a second run writes nothing
    assert sorted(r.seq for r in found.values()) == list(range(1, len(found) + 1))
    state = ProjectorState.objects.get()
    assert state.record_seq == len(found) and state.ledger_seq > 0
    assert projector.catch_up().written == 0


def test_secrets_never_reach_a_record(world) -> None:  # type: ignore[no-untyped-def]
    projector.catch_up()
    text = everything_public()
    for member in CommitteeMember.objects.all():  # who evaluated is never disclosed
        assert member.name not in text
    for bidder in world.bidders:  # registry secrets: ID numbers, bank accounts
        entity = bidder.entity
        if entity.legal_representative_id:
            assert entity.legal_representative_id not in text
        if entity.bank_account:
            assert entity.bank_account not in text
    assert "legal_representative_id" not in text and "bank_account" not in text


def test_a_scheduled_publicity_waits_and_then_takes_the_next_position(world) -> None:  # type: ignore[no-untyped-def]
    projector.catch_up()
    top = ProjectorState.objects.get().record_seq
    starts = w.SIGNED + days(1)
    services.publish_candidates(actor=world.tenderer, section=world.section, starts_at=starts,
                                ends_at=starts + days(3))  # fmt: skip
    out = projector.catch_up()
    key = f"candidates:{world.section.public_id}"
    assert out.pending == 1 and key not in records()
    assert PendingRelease.objects.get().key == key
    world.at(starts - days(1 / 86400))
    projector.catch_up()
    assert key not in records()
    world.at(starts)
    projector.catch_up()
    row = records()[key]
    assert row.seq > top and not PendingRelease.objects.exists()
    assert [c["rank"] for c in row.data["candidates"]] == [1, 2, 3]
    assert row.data["candidates"][0]["total"] is not None  # works: the scores are public


def test_the_result_and_the_contract_follow_and_the_announcement_moves_to_the_end(world) -> None:  # type: ignore[no-untyped-def]
    services.publish_candidates(actor=world.tenderer, section=world.section,
                                ends_at=w.SIGNED + days(3))  # fmt: skip
    projector.catch_up()
    key = f"announcement:{world.section.project.public_id}"
    before = records()[key]
    assert before.status == "publicity"
    world.at(cn(2026, 12, 18, 10))
    services.issue_award(actor=world.tenderer, section=world.section)
    row = services_contract.record_contract(
        actor=world.tenderer, section=world.section, amount="9000000.00",
        signed_on=date(2026, 12, 18), security_amount="900000.00",
        security_form="bank_guarantee",
    )  # fmt: skip
    projector.catch_up()
    sid = world.section.public_id
    assert f"award:{sid}" in records() and f"contract:{sid}" not in records()  # not published
    services_contract.publish_contract(actor=world.tenderer, contract=row)
    projector.catch_up()
    found = records()
    assert found[f"contract:{sid}"].data["amount"] == "9000000.00"
    assert found[f"award:{sid}"].data["winner"]["uscc"] == w.entity_of(world, 1).uscc
    after = found[key]
    assert after.status == "contracted" and after.seq > before.seq
    assert after.seq == max(r.seq for r in found.values())  # changed last: at the feed's end
    assert kinds() == ["announcement", "award", "candidates", "contract", "entity", "opening"]


def test_procurement_candidates_carry_no_scores(db, region, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    world = w.signed_world(frozen_clock, category="procurement", deposit="100000.00")
    services.publish_candidates(actor=world.tenderer, section=world.section,
                                ends_at=w.SIGNED + days(1))  # fmt: skip
    projector.catch_up()
    row = records()[f"candidates:{world.section.public_id}"]
    assert {c["total"] for c in row.data["candidates"]} == {None}  # R61
    assert {c["evaluated_price"] for c in row.data["candidates"]} == {None}


def test_rebuilding_from_the_start_keeps_unchanged_positions(world) -> None:  # type: ignore[no-untyped-def]
    projector.catch_up()
    before = {k: r.seq for k, r in records().items()}
    projector.rebuild_all()
    assert {k: r.seq for k, r in records().items()} == before


def test_the_cli_projects_and_rebuilds(world) -> None:  # type: ignore[no-untyped-def]
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("disclosure", "project", stdout=out)
    written = PublicRecord.objects.count()
    assert written > 0 and f"wrote {written} records" in out.getvalue()
    positions = sorted(PublicRecord.objects.values_list("key", "seq"))
    out = StringIO()
    call_command("disclosure", "rebuild", stdout=out)
    assert "0 records changed" in out.getvalue()  # nothing changed: same keys, same positions
    assert sorted(PublicRecord.objects.values_list("key", "seq")) == positions
    with pytest.raises(CommandError, match="bad_interval"):
        call_command("disclosure", "project", "--follow", "--interval", "0", stdout=StringIO())
