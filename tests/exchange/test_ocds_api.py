"""OCDS through its interfaces: ``GET /api/v1/ocds/releases|records/{ocid}`` (anonymous; 400 for
a malformed ocid, 404 for an unknown or unpublished one, in the one error shape) and
``ggzy export ocds`` (JSON Lines or one package, ``--records``, ``--since``, a query count that
does not grow with the number of processes); a clarification that moves the deadline (R6); an
opening that fails for want of bids (R15)."""

from __future__ import annotations

import io
import json
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from ggzy.bidding import bids, opening
from ggzy.core import clock
from ggzy.exchange import ocds_packages as packages
from ggzy.exchange.ocds import ocid_of, stamp
from ggzy.tendering import services as tendering
from tests.api.support import assert_error
from tests.bidding import world as bw
from tests.exchange.test_ocds_lifecycle import assert_valid_releases

BASE = "/api/v1/ocds"


@pytest.fixture
def world(db, region, frozen_clock):  # type: ignore[no-untyped-def]
    world = bw.make_world(n_bidders=3)
    bw.publish(world)
    return world


def export(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("export", "ocds", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# --- the API --------------------------------------------------------------------------------------


def test_anyone_reads_the_release_and_record_packages(world):  # type: ignore[no-untyped-def]
    ocid = ocid_of(world.section)
    response = Client().get(f"{BASE}/releases/{ocid}")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    package = response.json()
    assert package["uri"] == f"http://testserver/api/v1/ocds/releases/{ocid}"
    assert (package["version"], package["publishedDate"]) == ("1.1", "2026-11-23T02:00:00Z")
    assert package["publisher"] == {"name": "OpenGGZY 公共资源交易平台", "uid": "openggzy:320000"}
    assert package["extensions"] == [packages.BIDS_EXTENSION]
    assert [r["id"] for r in package["releases"]] == [f"{ocid}-tender"]
    assert_valid_releases(package["releases"])
    records = Client().get(f"{BASE}/records/{ocid}").json()
    assert records["uri"] == f"http://testserver/api/v1/ocds/records/{ocid}"
    (record,) = records["records"]
    assert record["ocid"] == ocid and record["releases"] == package["releases"]
    assert record["compiledRelease"]["tag"] == ["compiled"]


@pytest.mark.parametrize("kind", ["releases", "records"])
@pytest.mark.parametrize(
    "ocid",
    ["ocds-ggzy00-xyz", "ocds-other-" + "a" * 32, "ocds-ggzy00-" + "A" * 32, "a" * 500],
)
def test_a_malformed_ocid_is_a_400(world, kind, ocid):  # type: ignore[no-untyped-def]
    body = assert_error(Client().get(f"{BASE}/{kind}/{ocid}"), 400, "malformed_ocid")
    assert body["detail"] == {"expected": "ocds-ggzy00-<32 hex>"}


@pytest.mark.parametrize("kind", ["releases", "records"])
def test_an_unknown_or_unpublished_process_is_a_404(world, kind):  # type: ignore[no-untyped-def]
    unknown = "ocds-ggzy00-" + "0" * 32
    assert_error(Client().get(f"{BASE}/{kind}/{unknown}"), 404, "ocid_not_found")
    # a registered (even accepted) project that is not published yet looks the same
    draft = tendering.register_project(actor=world.tenderer, tenderer=world.tenderer_entity,
                                       terms=bw.project_terms(name="未发布项目"))  # fmt: skip
    tendering.submit_project(actor=world.tenderer, project=draft)
    tendering.accept_project(actor=world.intake, project=draft)
    hidden = ocid_of(draft.sections.get())
    body = assert_error(Client().get(f"{BASE}/{kind}/{hidden}"), 404, "ocid_not_found")
    assert body["detail"] == {"ocid": hidden}


# --- the command ----------------------------------------------------------------------------------


def test_export_streams_one_package_per_process(world):  # type: ignore[no-untyped-def]
    bw.publish(world, terms=bw.project_terms(name="第二个项目"))
    draft = tendering.register_project(actor=world.tenderer, tenderer=world.tenderer_entity,
                                       terms=bw.project_terms(name="草稿项目"))  # fmt: skip
    out, err = export()
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 2 and "ocds: 2 contracting processes (releases)" in err
    assert all(p["releases"][0]["tag"] == ["tender"] for p in lines)
    assert ocid_of(draft.sections.get()) not in out
    for package in lines:
        assert package["uri"].endswith(f"/api/v1/ocds/releases/{package['releases'][0]['ocid']}")
        assert_valid_releases(package["releases"])


def test_export_of_records_as_one_package_to_a_file(world, tmp_path):  # type: ignore[no-untyped-def]
    bw.publish(world, terms=bw.project_terms(name="第二个项目"))
    target = tmp_path / "records.json"
    out, _ = export("--records", "--single", "--output", str(target))
    assert out == ""
    package = json.loads(target.read_text())
    assert package["uri"] == "http://127.0.0.1:8000/api/v1/ocds/records"
    assert package["version"] == "1.1" and len(package["records"]) == 2
    for record in package["records"]:
        assert record["compiledRelease"]["ocid"] == record["ocid"]
        assert_valid_releases(record["releases"])
    single, _ = export("--single")
    assert len(json.loads(single)["releases"]) == 2


def test_export_since(world, frozen_clock):  # type: ignore[no-untyped-def]
    frozen_clock.advance(days=3)
    later = bw.publish(world, terms=bw.project_terms(name="三天后的项目"))
    out, _ = export("--since", stamp(clock.now()))
    assert [json.loads(line)["releases"][0]["ocid"] for line in out.splitlines()] == [
        ocid_of(later.sections.get())
    ]
    assert export("--since", "2026-11-23")[0].count("\n") == 2  # midnight China time
    assert export("--since", "2030-01-01")[0] == ""
    with pytest.raises(CommandError, match="needs its offset"):
        call_command("export", "ocds", "--since", "2026-11-23T00:00:00", stderr=io.StringIO())


def test_export_queries_do_not_grow_with_the_processes(world):  # type: ignore[no-untyped-def]
    for n in range(2):
        bw.publish(world, terms=bw.project_terms(name=f"项目{n}"))
    tendering.issue_clarification(actor=world.tenderer, project=world.project, title="澄清",
                                  body="内容")  # fmt: skip

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            export("--records")
        return len(captured.captured_queries)

    few = queries()
    for n in range(3):
        bw.publish(world, terms=bw.project_terms(name=f"更多项目{n}"))
    assert queries() == few


# --- the tender's edge cases ----------------------------------------------------------------------


def test_a_late_clarification_moves_the_deadline_in_its_release(world, frozen_clock):  # type: ignore[no-untyped-def]
    # given a deadline 21 days after publication; 7 days later a clarification (R6: 15 days)
    frozen_clock.advance(days=7)
    issued = clock.now()
    tendering.issue_clarification(actor=world.tenderer, project=world.project,
                                  title="技术参数修改", body="第3章修改。")  # fmt: skip
    world.section.refresh_from_db()
    assert world.section.bid_deadline == issued + timedelta(days=15)
    releases = packages.get_process(ocid_of(world.section)).releases()
    tender, amendment = releases
    assert tender["tender"]["tenderPeriod"]["endDate"] == "2026-12-14T02:00:00Z"
    assert amendment["tender"]["tenderPeriod"] == {"endDate": "2026-12-15T02:00:00Z"}
    compiled = packages.record(releases[0]["ocid"], releases)["compiledRelease"]
    assert compiled["tender"]["tenderPeriod"] == {"startDate": "2026-11-23T02:00:00Z",
                                                  "endDate": "2026-12-15T02:00:00Z"}  # fmt: skip
    assert [a["id"] for a in compiled["tender"]["amendments"]] == ["1"]
    assert_valid_releases(releases)


def test_an_opening_without_enough_bids_names_nobody(world, frozen_clock):  # type: ignore[no-untyped-def]
    # given two sealed bids only (R15: fewer than three, no opening)
    section = world.section
    with tempfile.TemporaryDirectory() as work:
        for n, bidder in enumerate(world.bidders[:2]):
            path = bw.sealed(bidder, section, Path(work) / f"b{n}", price="9100000.00")
            bids.submit_bid(actor=bidder.user, section_id=section.public_id, upload=path)
    frozen_clock.set(section.bid_deadline)
    opening.start_opening(actor=world.operations, section=section)
    releases: list[dict[str, Any]] = packages.get_process(ocid_of(section)).releases()
    failed = releases[-1]
    assert failed["tag"] == ["tenderUpdate"] and failed["tender"]["status"] == "unsuccessful"
    assert failed["bids"] == {"statistics": [{"id": f"{section.public_id}-bids",
                                              "measure": "bids", "value": 2,
                                              "date": "2026-12-14T02:00:00Z"}]}  # fmt: skip
    text = json.dumps(releases, ensure_ascii=False)
    for bidder in world.bidders:
        assert bidder.entity.uscc not in text and bidder.entity.name not in text
    assert "9100000" not in text
    assert_valid_releases(releases)
