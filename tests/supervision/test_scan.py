"""The scan on the platform's own data: an opening closes, the scan reads it from the ledger and
the section's bid-price screens raise an alert (or not); the nightly pass raises nothing twice
and applies new thresholds; a detector failing on one section does not stop the others."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from ggzy.accounts.roles import Role
from ggzy.supervision import detectors, scan, services
from ggzy.supervision.models import Alert, AlertKind, ScanState
from tests.conftest import make_user
from tests.evaluation import world as ew

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("region")]

# five bids within 0.3 % of each other, the lowest a clear step below the rest: compressed
# (CV, SPD low) with the gap of a cover-bidding pattern (DIFFP, RD high)
COLLUSIVE = ["9500000.00", "9910000.00", "9915000.00", "9920000.00", "9925000.00"]
COMPETITIVE = ["7200000.00", "8100000.00", "8650000.00", "9400000.00", "9900000.00"]


def _opened(frozen_clock: Any, prices: list[str]) -> Any:
    world = ew.make_world(frozen_clock, bidders=len(prices))
    ew.open_section(world, prices)
    return world.section


def test_a_collusive_looking_opening_raises_one_screens_alert(frozen_clock: Any) -> None:
    section = _opened(frozen_clock, COLLUSIVE)
    out = scan.catch_up()
    assert out.sections == 1 and out.raised >= 1 and not out.failed
    alert = Alert.objects.get(kind=AlertKind.SCREENS)
    assert alert.kind == AlertKind.SCREENS and alert.section == section
    assert {"cv", "spd"} <= set(alert.evidence["flagged"])
    assert len(alert.evidence["bids"]) == 5 and alert.score is not None and alert.score >= 50
    # read once: the next catch-up has nothing new, the nightly pass raises nothing twice
    assert scan.catch_up().events == 0
    count = Alert.objects.count()
    nightly = scan.scan_all()
    assert nightly.raised == 0 and nightly.refreshed == 0 and Alert.objects.count() == count
    assert ScanState.objects.get().position > 0


def test_a_competitive_opening_raises_nothing_until_the_thresholds_say_so(
    frozen_clock: Any,
) -> None:
    _opened(frozen_clock, COMPETITIVE)
    scan.catch_up()
    assert not Alert.objects.filter(kind=AlertKind.SCREENS).exists()
    regulator = make_user("reg", Role.REGULATOR)
    # a regulator lowers the bar: any tender with one flagged screen (few bidders: nbids < 6)
    services.update_setting(actor=regulator, name="screens", value={"nbids": 6})
    services.update_setting(actor=regulator, name="alerting",
                            value={"screens_min_score": 1, "screens_min_flagged": 1})  # fmt: skip
    scan.scan_all()
    assert "nbids" in Alert.objects.get(kind=AlertKind.SCREENS).evidence["flagged"]


def test_a_failing_detector_is_counted_and_the_scan_goes_on(
    frozen_clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    section = _opened(frozen_clock, COLLUSIVE)

    def broken(section: Any, bids: Any) -> Any:
        raise RuntimeError("bug")

    monkeypatch.setattr(detectors, "SECTION_DETECTORS", [detectors.screens_detector, broken])
    out = scan.catch_up()
    # the section's alerts roll back with it: the next pass raises them
    assert out.failed == [section.public_id] and Alert.objects.count() == 0
    assert ScanState.objects.get().position > 0  # not stuck on it


def test_the_cli_scans(frozen_clock: Any) -> None:
    _opened(frozen_clock, COLLUSIVE)
    out = StringIO()
    call_command("supervision", "scan", stdout=out)
    assert "raised" in out.getvalue() and Alert.objects.filter(kind=AlertKind.SCREENS).count() == 1
    count = Alert.objects.count()
    call_command("supervision", "scan", "--all", stdout=out)
    assert Alert.objects.count() == count


def test_related_bidders_and_a_shared_deposit_account_are_linked(frozen_clock: Any) -> None:
    from ggzy.bidding.models import Deposit
    from ggzy.registry.models import Entity

    world = ew.make_world(frozen_clock, bidders=3)
    first, second, _third = (b.entity for b in world.bidding.bidders)
    # the same legal representative (R48), and the same payer account for two deposits (40(6))
    Entity.objects.filter(pk=second.pk).update(
        legal_representative_id=first.legal_representative_id
    )
    ew.open_section(world, COMPETITIVE[:3])
    for n, entity in enumerate((first, second)):
        Deposit.objects.create(
            section=world.section, entity=entity, method="transfer", amount="0.00",
            virtual_account=f"VA{n}", payer_account="6222 0000 1234 5678",
            created_by=world.bidding.bidders[n].user, created_at=frozen_clock.moment)  # fmt: skip
    scan.catch_up()
    kinds = {a.code: a for a in Alert.objects.all()}
    related = kinds["LINK-LEGAL_REPRESENTATIVE"]
    assert related.kind == AlertKind.RELATED and "依法所有投标无效" in related.title
    assert set(related.evidence["links"][0]["bidders"]) == {first.uscc, second.uscc}
    account = kinds["LINK-DEPOSIT_ACCOUNT"]
    assert account.evidence["links"][0]["value"].endswith("5678")
    assert "1234" not in account.evidence["links"][0]["value"]  # masked


def test_a_signed_evaluation_with_a_deviant_expert_raises_a_toolbox_alert(
    frozen_clock: Any,
) -> None:
    from ggzy.evaluation import services_report, services_review, services_scoring

    world = ew.make_world(frozen_clock, bidders=3)
    ew.open_section(world, ["9000000.00", "9500000.00", "9300000.00"])
    session = ew.seated(world)
    services_review.start_review(actor=world.staff, session=session)
    ew.confirm_all(world, session)
    services_review.start_scoring(actor=world.staff, session=session)
    labels = sorted(session.bids.values_list("label", flat=True))
    fair = {
        "A": {"c2": "28", "c3": "9"},
        "B": {"c2": "20", "c3": "7"},
        "C": {"c2": "24", "c3": "8"},
    }
    # the last expert turns the order round: B above A on both items and on the total
    bent = {
        "A": {"c2": "12", "c3": "3"},
        "B": {"c2": "30", "c3": "10"},
        "C": {"c2": "24", "c3": "8"},
    }
    for n, m in enumerate(world.members):
        points = bent if n == len(world.members) - 1 else fair
        entries = [services_scoring.ScoreEntry(label, c, p, "符合要求")
                   for label in labels for c, p in points[label].items()]  # fmt: skip
        services_scoring.submit_scores(actor=m.user, session=session, entries=entries)
    services_report.build_report(actor=world.staff, session=session)
    ew.sign_all(world, session)
    scan.catch_up()
    alert = Alert.objects.get(code="EXPERT-SCORE")
    assert alert.kind == AlertKind.TOOLBOX and "红色大于号" in alert.title
    assert world.members[-1].expert.name in alert.title
    assert alert.evidence["inversions"] and alert.evidence["deviations"]
    assert not Alert.objects.filter(code="EXPERT-SCORE").exclude(pk=alert.pk).exists()


def test_the_nightly_pass_runs_the_red_flags_over_the_platforms_ocds(frozen_clock: Any) -> None:
    from ggzy.supervision import redflags

    # three bids at the same price from different bidders: R028 on the opened section
    section = _opened(frozen_clock, ["9500000.00", "9500000.00", "9700000.00", "9800000.00",
                                     "9900000.00"])  # fmt: skip
    assert redflags.CODES
    out = scan.scan_all()
    assert not out.failed
    alert = Alert.objects.get(kind=AlertKind.REDFLAG, code="R028")
    assert alert.section == section and len(alert.evidence["tenderers"]) == 2


def test_two_bids_written_from_one_draft_are_paired(frozen_clock: Any) -> None:
    from pathlib import Path

    from ggzy.bidding.models import Bid
    from ggzy.bidding.opening import opened_dir

    section = _opened(frozen_clock, COMPETITIVE)
    draft = ("本工程施工组织设计由我公司项目部编制。针对教学楼主体结构施工，我方拟采用铝合金模板体系，"
             "标准层施工周期控制在五天以内，并设置独立的质量巡检小组每日两次复核钢筋绑扎与混凝土浇筑。"
             "冬季施工时采用电伴热养护并加密测温频次至每两小时一次。")  # fmt: skip
    bids = list(Bid.objects.filter(section=section).order_by("pk"))
    for n, bid in enumerate(bids[:2]):
        (opened_dir(bid) / "technical.txt").write_text(draft + f"附：项目经理{n}号。", "utf-8")
    for n, bid in enumerate(bids[2:]):  # the others wrote their own
        Path(opened_dir(bid) / "technical.txt").write_text(f"第{n}家自行编制：" + "".join(
            chr(0x4E00 + (n * 997 + k * 31) % 20000) for k in range(300)), "utf-8")  # fmt: skip
    scan.catch_up()
    alert = Alert.objects.get(kind=AlertKind.SIMILARITY)
    assert set(alert.evidence["bidders"]) == {bids[0].entity.uscc, bids[1].entity.uscc}
    assert alert.evidence["jaccard"] > 0.5 and alert.evidence["snippets"]


def test_a_rotation_ring_among_the_platforms_bids_is_one_alert(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from ggzy.supervision import demo, historical, platform

    bids = historical.read_csv(io.BytesIO(demo.history_csv().encode())).bids
    monkeypatch.setattr(platform, "platform_bids", lambda: bids)
    raised = detectors.network_detector()
    (alert,) = [a for a, _new, _changed in raised]
    assert alert.kind == AlertKind.NETWORK and "围标" in alert.title
    assert set(alert.evidence["names"]) == {
        "9132010099999000A1",
        "9132010099999000B2",
        "9132010099999000C3",
        "9132010099999000D4",
    }
    assert detectors.network_detector()[0][1:] == (False, False)  # raised once
