"""OCDS output of one real open tender, carried through the services from the announcement to
the published contract (tests/lifecycle/test_opening_to_contract.py's steps): at every stage
each release and the compiled record validate against the local OCDS 1.1.5 core schema and the
core+bids schema (jsonschema, Draft 4, formats checked) and, as packages, with libcoveocds on
the local standard zip with every socket refused; nothing is disclosed before its time (bids
and prices before the opening, candidates before the publicity, the contract before its
publication) and some things never (the committee, the experts, the scores); the values are
the hand-checked ones of this tender.
"""

from __future__ import annotations

import io
import json
import socket
import tempfile
import zipfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jsonref
import jsonschema
import orjson
import pytest
from libcoveocds.api import ocds_json_output
from libcoveocds.config import LibCoveOCDSConfig
from ocdsmerge.rules import get_merge_rules

from ggzy.bidding import bids
from ggzy.core import clock
from ggzy.evaluation.models import CommitteeMember
from ggzy.exchange import ocds_packages as packages
from ggzy.exchange.ocds import Process, amount, ocid_of
from ggzy.tendering import services as tendering
from tests.award import world as aw
from tests.bidding import world as bw
from tests.lifecycle import test_opening_to_contract as life

OCDS = Path(__file__).resolve().parents[3] / "shared" / "data" / "ocds"
CORE = json.loads((OCDS / "release-schema-1__1__5.json").read_text())
BIDS = json.loads((OCDS / "release-schema-1__1__5+bids.json").read_text())
STANDARD_ZIP = OCDS / "standard-1__1__5.zip"


# --- validation -----------------------------------------------------------------------------------


def schema_errors(release: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft4Validator(
        schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    )
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(release)]


def assert_valid_releases(releases: list[dict[str, Any]]) -> None:
    """Each release and the compiled release, against the core and the core+bids schema; bids
    only where the extension is used."""
    compiled = packages.record(releases[0]["ocid"], releases)["compiledRelease"]
    for release in [*releases, compiled]:
        assert schema_errors(release, BIDS) == [], release["id"]
        assert schema_errors({k: v for k, v in release.items() if k != "bids"}, CORE) == []


class NoNetwork:
    """Every socket connect and name lookup is refused while inside."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.attempts: list[Any] = []

        def refuse(*args: Any, **kwargs: Any) -> Any:
            self.attempts.append(args)
            raise OSError("network disabled in tests")

        monkeypatch.setattr(socket.socket, "connect", refuse)
        monkeypatch.setattr(socket.socket, "connect_ex", refuse)
        monkeypatch.setattr(socket, "create_connection", refuse)
        monkeypatch.setattr(socket, "getaddrinfo", refuse)


class LocalSchemas:
    """What jsonref fetches by URL (the record package schema names the versioned release
    schema by its URL), answered from the local standard zip; any other URL is refused."""

    BASE = "https://standard.open-contracting.org/schema/1__1__5/"

    def __init__(self) -> None:
        self.served: list[str] = []

    def get(self, uri: str, **kwargs: Any) -> Any:
        if not uri.startswith(self.BASE):
            raise OSError(f"not served offline: {uri}")
        with zipfile.ZipFile(STANDARD_ZIP) as z:
            data = json.loads(z.read(f"standard-1__1__5/schema/{uri.removeprefix(self.BASE)}"))
        self.served.append(uri)
        return SimpleNamespace(json=lambda **kw: data, raise_for_status=lambda: None)


def cove(package: dict[str, Any]) -> dict[str, Any]:
    """libcoveocds on the local standard zip, offline. The bids extension is declared by URL
    only: cove cannot fetch it (no network), so its schema part is checked by jsonschema above;
    cove checks the package against the core schemas, codelists and its additional checks."""
    config = LibCoveOCDSConfig({"standard_zip": f"file://{STANDARD_ZIP}", "context": "api"})
    data = orjson.loads(orjson.dumps(package))
    with tempfile.TemporaryDirectory() as out, pytest.MonkeyPatch.context() as patch:
        guard = NoNetwork(patch)
        patch.setattr(jsonref, "requests", LocalSchemas())
        result = ocds_json_output(out, json_data=data, schema_version="1.1",
                                  lib_cove_ocds_config=config)  # fmt: skip
    result["network_attempts"] = guard.attempts
    return result


def assert_cove_clean(package: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    result = cove(package)
    assert result["validation_errors"] == [], result["validation_errors"]
    assert result.get("json_deref_error") is None
    assert result["version_used"] == "1.1"
    # the only extension problem is the one expected offline: the URL was not fetched
    assert set(result["extensions"]["invalid_extension"]) <= {packages.BIDS_EXTENSION}
    # nothing reached the network: the only tries were the extension's URL, and they failed
    hosts = {a[0] for a in result["network_attempts"] if a and isinstance(a[0], str)}
    assert hosts <= {"github.com", "raw.githubusercontent.com"}, hosts
    # the bids extension's fields are the only ones outside the core schema
    assert {f["field"] for f in result["additional_fields"]} <= {"bids"}
    codelists = result.get("additional_closed_codelist_values") or {}
    assert codelists == {}, codelists


def export_text(process: Process) -> str:
    """Everything a member of the public gets about the process: both packages, as JSON."""
    release_pkg = packages.process_release_package(process)
    record_pkg = packages.process_record_package(process)
    return orjson.dumps([release_pkg, record_pkg]).decode()


def process_now(section: Any) -> Process:
    return packages.get_process(ocid_of(section), now=clock.now())


# --- the tender -----------------------------------------------------------------------------------


def test_merge_rules_are_those_of_the_local_schema() -> None:
    assert get_merge_rules(BIDS) == packages.MERGE_RULES


def test_the_schema_check_can_fail() -> None:
    """Formats are checked (rfc3339-validator, rfc3987 installed), not only types."""
    release = {"ocid": "ocds-ggzy00-x", "id": "x", "date": "2026-12-14T02:00:00Z",
               "tag": ["tender"], "initiationType": "tender"}  # fmt: skip
    assert schema_errors(release, CORE) == []
    assert schema_errors({**release, "date": "2026-12-14 02:00"}, CORE) == [
        "['date']: '2026-12-14 02:00' is not a 'date-time'"
    ]
    assert schema_errors({**release, "tag": ["bids"]}, BIDS) != []
    bid = {"id": "b", "status": "opened"}  # not a bidStatus code
    assert schema_errors({**release, "bids": {"details": [bid]}}, BIDS) != []


def test_amounts_are_written_with_exactly_their_digits() -> None:
    assert amount(Decimal("9000000.00")) == 9000000 and isinstance(amount(Decimal("1.00")), int)
    assert orjson.dumps(amount(Decimal("12345678.91"))) == b"12345678.91"
    assert orjson.dumps(amount(Decimal("99999999999.99"))) == b"99999999999.99"
    with pytest.raises(ValueError):
        amount(Decimal("99999999999999.99"))  # 16 significant digits: a float would print .98


def test_the_tender_and_a_clarification_show_nothing_of_sealed_bids(
    db, region, frozen_clock, monkeypatch
):  # type: ignore[no-untyped-def]
    # given a published works tender (T0 = 2026-11-23 10:00 China) with three bidders
    world = life.ew.make_world(frozen_clock, deposit=life.DEPOSIT)
    section = world.section
    ocid = f"ocds-ggzy00-{section.public_id}"
    assert ocid_of(section) == ocid
    process = process_now(section)
    releases = process.releases()
    # then only the tender release, with the section's terms
    assert [r["id"] for r in releases] == [f"{ocid}-tender"]
    tender = releases[0]
    assert tender["tag"] == ["tender"] and tender["date"] == "2026-11-23T02:00:00Z"
    assert tender["tender"]["value"] == {"amount": 10000000, "currency": "CNY"}
    assert tender["planning"]["budget"]["amount"] == {"amount": 12000000, "currency": "CNY"}
    assert tender["tender"]["tenderPeriod"] == {"startDate": "2026-11-23T02:00:00Z",
                                                "endDate": "2026-12-14T02:00:00Z"}  # fmt: skip
    assert (tender["tender"]["procurementMethod"], tender["tender"]["mainProcurementCategory"],
            tender["tender"]["awardCriteria"]) == ("open", "works", "ratedCriteria")  # fmt: skip
    buyer = world.bidding.tenderer_entity
    assert tender["buyer"] == {"id": f"CN-USCC-{buyer.uscc}", "name": "南京市某中学"}
    assert tender["parties"][0]["roles"] == ["buyer", "procuringEntity"]
    assert [d["documentType"] for d in tender["tender"]["documents"]] == [
        "tenderNotice", "biddingDocuments"]  # fmt: skip
    assert_valid_releases(releases)
    assert_cove_clean(packages.process_release_package(process), monkeypatch)

    # when a clarification is issued a day later (20 days before the deadline: it stays)
    frozen_clock.advance(days=1)
    tendering.issue_clarification(actor=world.bidding.tenderer, project=world.bidding.project,
                                  title="关于工期的澄清", body="工期调整为300日历天。")  # fmt: skip
    # and every bidder bids — sealed, nothing of it may show
    sealed_prices = ["9000000.00", "9500000.00", "9300000.00"]
    with tempfile.TemporaryDirectory() as work:
        for n, (bidder, price) in enumerate(zip(world.bidding.bidders, sealed_prices, strict=True)):
            path = bw.sealed(bidder, section, Path(work) / f"x{n}", price=price)
            bids.submit_bid(actor=bidder.user, section_id=section.public_id, upload=path)
    process = process_now(section)
    releases = process.releases()
    assert [r["tag"] for r in releases] == [["tender"], ["tenderAmendment"]]
    amendment = releases[1]["tender"]["amendments"][0]
    assert amendment == {"id": "1", "date": "2026-11-24T02:00:00Z", "rationale": "关于工期的澄清",
                         "description": "工期调整为300日历天。",
                         "amendsReleaseID": f"{ocid}-tender",
                         "releaseID": f"{ocid}-amendment-1"}  # fmt: skip
    text = export_text(process)
    for bidder in world.bidding.bidders:
        assert bidder.entity.uscc not in text and bidder.entity.name not in text
    for price in ("9000000", "9500000", "9300000"):
        assert price not in text
    assert '"bids"' not in text
    assert_valid_releases(releases)


def test_a_section_in_full(db, region, frozen_clock, monkeypatch):  # type: ignore[no-untyped-def]
    # given the lifecycle's tender: opened at the deadline with bids of 9.0M, 9.5M, 9.3M
    t = life.opened(frozen_clock, "comprehensive")
    section, ocid = t.section, ocid_of(t.section)
    process = process_now(section)
    releases = process.releases()
    assert [r["id"] for r in releases] == [f"{ocid}-tender", f"{ocid}-bids"]
    opening = releases[1]
    assert opening["tag"] == ["tenderUpdate"] and opening["date"] == "2026-12-14T02:00:01Z"
    details = opening["bids"]["details"]
    assert [(d["status"], d["value"]) for d in details] == [
        ("pending", {"amount": int(p[:-3]), "currency": "CNY"}) for p in aw.PRICES
    ]
    assert [d["tenderers"][0]["id"] for d in details] == [
        f"CN-USCC-{t.entity(n).uscc}" for n in (1, 2, 3)
    ]
    assert {s["measure"]: s["value"] for s in opening["bids"]["statistics"]} == {
        "bids": 3, "electronicBids": 3}  # fmt: skip
    assert opening["tender"]["numberOfTenderers"] == 3
    assert_valid_releases(releases)
    assert_cove_clean(packages.process_release_package(process), monkeypatch)

    # when evaluated, published, awarded and contracted (the lifecycle's steps)
    ledger = life.Ledger()
    session = life.drawn_and_seated(t, frozen_clock, ledger)
    session = life.evaluated(t, session, ledger)
    # the report is signed but the publicity has not been published: nothing new
    assert [r["id"] for r in process_now(section).releases()] == [f"{ocid}-tender", f"{ocid}-bids"]
    life.publicity_and_award(t, frozen_clock, ledger)
    # (the clock is at the award; the contract is not recorded yet)
    process = process_now(section)
    releases = process.releases()
    assert [r["tag"] for r in releases] == [["tender"], ["tenderUpdate"], ["award"], ["award"]]
    candidates, award = releases[2], releases[3]
    publicity = section.award_publicity
    assert candidates["date"] == "2026-12-14T04:00:00Z"
    assert [(a["id"], a["status"], a["value"]["amount"], a["suppliers"][0]["id"])
            for a in candidates["awards"]] == [
        (f"{publicity.public_id}-1", "pending", 9000000, f"CN-USCC-{t.entity(1).uscc}"),
        (f"{publicity.public_id}-2", "pending", 9300000, f"CN-USCC-{t.entity(3).uscc}"),
        (f"{publicity.public_id}-3", "pending", 9500000, f"CN-USCC-{t.entity(2).uscc}"),
    ]  # fmt: skip
    assert award["date"] == "2026-12-17T04:00:00Z"
    assert [(a["id"], a["status"]) for a in award["awards"]] == [
        (f"{publicity.public_id}-1", "active"), (f"{publicity.public_id}-2", "unsuccessful"),
        (f"{publicity.public_id}-3", "unsuccessful")]  # fmt: skip
    assert award["tender"]["status"] == "complete"
    contract = life.contracted(t, frozen_clock, ledger)

    # then the full record: five releases, the compiled one as hand-worked
    process = process_now(section)
    releases = process.releases()
    assert [r["id"].removeprefix(ocid + "-") for r in releases] == [
        "tender", "bids", "candidates", "award", "contract"]  # fmt: skip
    assert releases[-1]["contracts"] == [{
        "id": contract.public_id, "awardID": f"{publicity.public_id}-1",
        "title": "南京市某中学教学楼新建工程 主体工程施工 合同", "status": "active",
        "value": {"amount": 9000000, "currency": "CNY"}, "dateSigned": "2026-12-17T16:00:00Z",
    }]  # fmt: skip
    assert releases[-1]["date"] == "2026-12-18T07:00:00Z"
    assert_valid_releases(releases)
    record_pkg = packages.process_record_package(process)
    compiled = record_pkg["records"][0]["compiledRelease"]
    assert compiled["id"] == f"{ocid}-2026-12-18T07:00:00Z" and compiled["tag"] == ["compiled"]
    assert compiled["tender"]["status"] == "complete"
    assert compiled["tender"]["value"]["amount"] == 10000000
    winner = next(a for a in compiled["awards"] if a["status"] == "active")
    assert winner["value"]["amount"] == 9000000 and winner["date"] == "2026-12-17T04:00:00Z"
    roles = {p["id"]: p["roles"] for p in compiled["parties"]}
    assert roles[f"CN-USCC-{t.entity(1).uscc}"] == ["tenderer", "supplier"]
    assert roles[f"CN-USCC-{t.entity(2).uscc}"] == ["tenderer"]
    assert len(compiled["bids"]["details"]) == 3
    assert_cove_clean(record_pkg, monkeypatch)
    assert_cove_clean(packages.process_release_package(process), monkeypatch)
    # and never the committee, the experts or the scores
    text = export_text(process)
    for member in CommitteeMember.objects.filter(session=session):
        assert member.name not in text and member.ref not in text
    for m in t.eval.members:
        assert m.expert.name not in text and m.expert.resident_id not in text
    assert "93.00" not in text and '"total"' not in text
    assert session.public_id not in text


def test_each_release_waits_for_its_moment(db, region, frozen_clock):  # type: ignore[no-untyped-def]
    # given the section opened at 2026-12-14 10:00:01 China and its contract published later
    t = life.opened(frozen_clock, "lowest_price")
    ledger = life.Ledger()
    session = life.drawn_and_seated(t, frozen_clock, ledger)
    life.evaluated(t, session, ledger)
    life.publicity_and_award(t, frozen_clock, ledger)
    life.contracted(t, frozen_clock, ledger)
    section = t.section
    opened_at = section.opening.closed_at
    moments = {
        "tender": opened_at - timedelta(seconds=1),
        "bids": opened_at,
        "candidates": section.award_publicity.starts_at,
        "award": section.award_notice.issued_at,
        "contract": section.award_notice.contract.published_at,
    }
    full = packages.get_process(ocid_of(section), now=clock.now())
    order = [r["id"].rsplit("-", 1)[-1] for r in full.releases()]
    assert order == list(moments)
    # then at each moment exactly the releases due by then, and one second before, one fewer
    for n, (name, moment) in enumerate(moments.items()):
        at = packages.get_process(ocid_of(section), now=moment)
        assert [r["id"].rsplit("-", 1)[-1] for r in at.releases()] == order[: n + 1], name
        if n:
            before = packages.get_process(ocid_of(section), now=moment - timedelta(seconds=1))
            assert len(before.releases()) == n, name


def test_invitees_of_an_invited_tender_never_appear(db, region, frozen_clock):  # type: ignore[no-untyped-def]
    # given an invited tender with three of four registered bidders invited
    from ggzy.tendering import invitations

    world = bw.make_world(n_bidders=4)
    project = tendering.register_project(
        actor=world.tenderer, tenderer=world.tenderer_entity,
        terms=bw.project_terms(procedure="invited_tender"),
    )  # fmt: skip
    tendering.submit_project(actor=world.tenderer, project=project)
    tendering.accept_project(actor=world.intake, project=project)
    tendering.upload_document(actor=world.tenderer, project=project, kind="tender",
                              name="投标邀请书.txt", stream=io.BytesIO("投标邀请书".encode()))  # fmt: skip
    invited = [b.entity for b in world.bidders[:3]]
    invitations.invite_bidders(actor=world.tenderer, project=project,
                               usccs=[e.uscc for e in invited])  # fmt: skip
    now = clock.now()
    tendering.publish_project(
        actor=world.tenderer, project=project, announcement="投标邀请书",
        documents_from=now, documents_until=now + timedelta(days=6),
        bid_deadline=now + timedelta(days=21),
    )  # fmt: skip
    section = project.sections.get()
    process = process_now(section)
    # then the process is public as a selective one, and no invitee is named in it
    releases = process.releases()
    assert releases[0]["tender"]["procurementMethod"] == "selective"
    assert releases[0]["tender"]["procurementMethodDetails"] == "邀请招标"
    text = export_text(process)
    for entity in invited:
        assert entity.uscc not in text and entity.name not in text
    assert "tenderers" not in text and "invited" not in text
    assert_valid_releases(releases)
