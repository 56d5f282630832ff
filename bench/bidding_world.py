"""Shared setup of the bidding benchmarks (``bid_surge.py``, ``opening.py``): a published
open-tender section and N bidders, each with a user, an entity, a bound ECDSA P-256 certificate
(one test CA for all), an API token and a sealed envelope for that section.

Runs inside a configured child (``common.fresh_db`` + ``common.run_child``)::

    python bench/bidding_world.py --child --out world.json --bidders 500 --size-mb 1 \
        --work /tmp/x --deadline-epoch 1790000000.0

The project is registered, accepted and published with the clock frozen 21 days before the
requested deadline (R1's 20-day bid period is respected; the deadline lands at the requested
real time). Envelopes are sealed after publishing (the section code is assigned at acceptance)
and written to ``--work``; the output JSON names the section, each bidder's token, envelope file
and content key (what ``ggzy-client unwrap`` gives the bidder at the opening).

The world is built with the helpers of ``tests/bidding/world.py`` (``tests/trust/pki.py`` for the
CA and bindings); users get an MD5 password hash in this child only (Argon2 × 500 would take
minutes and no benchmark logs in with a password — they use API tokens).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import common  # noqa: E402

CIPHER = "aes-256-gcm"


def _payload(path: Path, size: int, seed: int) -> None:
    """Incompressible bytes (the envelope format compresses nothing, but be safe)."""
    with open(path, "wb") as fh:
        left = size
        while left:
            n = min(4 << 20, left)
            fh.write(os.urandom(n))
            left -= n


def build(
    *, bidders: int, size: int, work: Path, deadline: datetime, cipher: str, submit_before: bool
) -> dict[str, Any]:
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    from ggzy.accounts.roles import Role
    from ggzy.accounts.services import issue_token
    from ggzy.bidding import register as bid_register
    from ggzy.catalog.services import install_default_catalog
    from ggzy.core import clock
    from ggzy.ledger import signing
    from ggzy_client import envelope as envelope_format
    from tests.api.support import register
    from tests.bidding import world as tw
    from tests.conftest import make_user
    from tests.trust import pki

    signing.ensure_key()
    bid_register.ensure_key()
    timings: dict[str, float] = {}
    t = time.perf_counter()
    from ggzy.registry.models import Region

    province, _ = Region.objects.get_or_create(code="320000", defaults={"name": "江苏省"})
    Region.objects.get_or_create(code="320100", defaults={"name": "南京市", "parent": province})
    install_default_catalog(actor="system:test")
    pki.onboard(tw.FAMILY)
    operations = make_user("ops_staff", Role.CENTER_OPERATIONS)
    published_at = deadline - timedelta(days=21)
    with clock.frozen(published_at - timedelta(hours=1)):
        tenderer = make_user("tenderer_admin", Role.TENDERER)
        tenderer_entity = register(
            tenderer, 9000, name="南京市某中学", is_bidder=False, is_tenderer=True,
            entity_type="institution",
        )  # fmt: skip
        world = tw.World(
            tenderer=tenderer,
            tenderer_entity=tenderer_entity,
            intake=make_user("intake_staff", Role.CENTER_INTAKE),
            operations=operations,
        )
    with clock.frozen(published_at):
        tw.publish(world, days=21)
    section = world.section
    assert section.bid_deadline == deadline, (section.bid_deadline, deadline)
    timings["publish_s"] = time.perf_counter() - t

    t = time.perf_counter()
    people: list[tw.Bidder] = []
    tokens: list[str] = []
    for n in range(1, bidders + 1):
        user = make_user(f"bidder{n}", Role.BIDDER)
        entity = register(user, n)
        issued = pki.entity_cert(tw.FAMILY, entity.uscc, entity.name)
        pki.bind(user, issued, entity)
        people.append(tw.Bidder(user, entity, issued))
        tokens.append(issue_token(actor=user, name="bench")[1])
        if n % 100 == 0:
            common.log(f"world: {n}/{bidders} bidders")
    timings["bidders_s"] = time.perf_counter() - t

    t = time.perf_counter()
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, b in enumerate(people):
        d = work / f"b{i:04d}"
        d.mkdir(exist_ok=True)
        form = d / "bid.json"
        price = f"{9_000_000 + i * 137:.2f}"
        form.write_text(json.dumps({"price": price, "duration_days": 300 + i % 60}))
        tech = d / "technical.bin"
        _payload(tech, max(size - form.stat().st_size, 1), i)
        out = work / f"envelope-{i:04d}.zip"
        envelope_format.seal(
            files=[form, tech], section=section.code, keystore=b.keystore, cipher=cipher, out=out
        )
        key = envelope_format.unwrap_content_key(out, b.keystore)
        tech.unlink()
        rows.append(
            {
                "i": i,
                "username": b.user.username,
                "user_id": b.user.pk,
                "entity_id": b.entity.pk,
                "token": tokens[i],
                "envelope": str(out),
                "envelope_bytes": out.stat().st_size,
                "content_key": key.hex(),
                "price": price,
            }
        )
        if (i + 1) % 100 == 0:
            common.log(f"world: sealed {i + 1}/{bidders}")
    timings["seal_s"] = time.perf_counter() - t

    if submit_before:  # for the opening: submit every bid through the service, clock frozen
        import shutil

        from ggzy.bidding import bids

        t = time.perf_counter()
        with clock.frozen(deadline - timedelta(minutes=10)):
            for row, b in zip(rows, people, strict=True):
                upload = work / f"upload-{row['i']:04d}.zip"
                shutil.copy(row["envelope"], upload)
                bid = bids.submit_bid(actor=b.user, section_id=section.public_id, upload=upload)
                row["bid"] = bid.public_id
        timings["submit_s"] = time.perf_counter() - t

    return {
        "section": section.public_id,
        "section_pk": section.pk,
        "section_code": section.code,
        "deadline": deadline.isoformat(),
        "deadline_epoch": deadline.timestamp(),
        "operations_user": operations.pk,
        "cipher": cipher,
        "timings": timings,
        "bidders": rows,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--out", required=True)
    p.add_argument("--bidders", type=int, default=500)
    p.add_argument("--size-mb", type=float, default=1.0)
    p.add_argument("--work", required=True)
    p.add_argument("--deadline-epoch", type=float, required=True)
    p.add_argument("--cipher", default=CIPHER)
    p.add_argument("--submit", action="store_true", help="submit every bid before the deadline")
    args = p.parse_args(argv)
    common.child_setup()
    # whole microseconds: the deadline round-trips through the database
    deadline = datetime.fromtimestamp(round(args.deadline_epoch, 3), UTC)
    world = build(
        bidders=args.bidders,
        size=int(args.size_mb * common_mb()),
        work=Path(args.work),
        deadline=deadline,
        cipher=args.cipher,
        submit_before=args.submit,
    )
    common.write_out(args.out, world)
    return 0


def common_mb() -> int:
    return 1 << 20  # 1 MiB: a "1 MB" bid is at least this big


if __name__ == "__main__":
    sys.exit(main())
