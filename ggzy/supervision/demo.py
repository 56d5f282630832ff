"""The supervision part of ``ggzy demo``: the demo regulator (``jianguan``) lists a demo bidder on
the watchlist, the scan runs over the demo's openings and evaluations (so the inbox holds the
alerts they raise — the demo bids were all sealed on one machine, so the 条例40 machine links
fire, as they would for bids prepared on one computer), and a historical data set with a planted
bid-rotation ring is imported with its report. Idempotent."""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass

from ggzy.accounts.models import User
from ggzy.supervision import datasets, scan, watchlist
from ggzy.supervision.models import Alert, Dataset, WatchEntry

REGULATOR = "jianguan"
DATASET_NAME = "演示：2025年房建市政历史投标数据"


def history_csv(*, tenders: int = 120, seed: int = 2025) -> str:
    """Bid-level history in the documented CSV layout: competitive tenders among 40 firms, and a
    ring of four that bid together at prices a step apart and take turns winning."""
    rnd = random.Random(seed)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["tender_id", "date", "bidder_id", "bidder_name", "amount", "winner", "category",
                "region"])  # fmt: skip
    districts = ["320102", "320104", "320105", "320106", "320111"]
    for t in range(tenders):
        firms = rnd.sample(range(40), rnd.randint(3, 8))
        estimate = rnd.randint(50, 900) * 10_000
        prices = sorted(estimate * rnd.uniform(0.82, 1.0) for _ in firms)
        for k, (firm, price) in enumerate(zip(firms, prices, strict=True)):
            w.writerow([f"LS2025{t:04d}", f"2025-{1 + t % 12:02d}-{1 + t % 27:02d}",
                        f"9132010000000{firm:05d}", f"南京市历史建设{firm}号有限公司",
                        f"{price:.2f}", int(k == 0), "works", rnd.choice(districts)])  # fmt: skip
    ring = [("9132010099999000A1", "南京围标甲建设有限公司"), ("9132010099999000B2", "南京围标乙建设有限公司"),
            ("9132010099999000C3", "南京围标丙建设有限公司"), ("9132010099999000D4", "南京围标丁建设有限公司")]  # fmt: skip
    for t in range(24):
        winner = t % len(ring)
        estimate = rnd.randint(200, 600) * 10_000
        for m, (uscc, name) in enumerate(ring):
            price = estimate * (0.93 if m == winner else 0.975 + 0.002 * m)
            w.writerow([f"WB2025{t:04d}", f"2025-{1 + t % 12:02d}-{2 + t % 25:02d}", uscc, name,
                        f"{price:.2f}", int(m == winner), "works", "320106"])  # fmt: skip
    return out.getvalue()


@dataclass
class DemoSupervision:
    created: bool
    alerts: int
    dataset: str


def load_demo_supervision() -> DemoSupervision:
    regulator = User.objects.filter(username=REGULATOR).first()
    if regulator is None:
        return DemoSupervision(False, 0, "")
    existing = Dataset.objects.filter(name=DATASET_NAME).first()
    if existing is not None:
        return DemoSupervision(False, Alert.objects.count(), existing.public_id)
    from ggzy.bidding.models import Bid

    listed = (Bid.objects.filter(entity__isnull=False).select_related("entity")
              .order_by("pk").last())  # fmt: skip
    if listed is not None and listed.entity is not None and not WatchEntry.objects.exists():
        watchlist.add(actor=regulator, kind="entity", value=listed.entity.uscc,
                      reason="演示：曾因串通投标被投诉")  # fmt: skip
    scan.scan_all()
    row = datasets.import_dataset(actor=regulator, name=DATASET_NAME, source_format="csv",
                                  data=history_csv().encode(), file_name="demo-history.csv")  # fmt: skip
    return DemoSupervision(True, Alert.objects.count(), row.public_id)
