"""``ggzy ledger head | proof SEQ | consistency OLD NEW | verify | check-proof FILE | key``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ggzy.core.errors import DomainError


class Command(BaseCommand):
    help = "Inspect and verify the tamper-evident ledger (交易留痕账本)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("head", help="print the latest signed tree head (signing one if needed)")
        p = sub.add_parser("proof", help="print an inclusion proof (JSON) for event SEQ")
        p.add_argument("seq", type=int)
        p.add_argument("--tree-size", type=int)
        c = sub.add_parser("consistency", help="print a consistency proof between two tree sizes")
        c.add_argument("old", type=int)
        c.add_argument("new", type=int)
        sub.add_parser(
            "verify", help="recompute chain, Merkle tree and signatures; exit 1 on tamper"
        )
        k = sub.add_parser("check-proof", help="check a proof file offline (no database)")
        k.add_argument("file")
        k.add_argument("--key", help="platform public key PEM (default: this installation's)")
        sub.add_parser("key", help="print the platform's tree-head public key (PEM)")
        sub.add_parser("chain", help="chain pending events now (after a crash; normally automatic)")
        ch = sub.add_parser("chainer", help="run the chainer (GGZY_LEDGER_CHAINER=process)")
        ch.add_argument("--seconds", type=float, help="stop after this long (default: run forever)")

    def handle(self, *args: Any, action: str, **opts: Any) -> None:
        from ggzy.ledger import offline, proofs, signing
        from ggzy.ledger.verify import verify_ledger

        try:
            if action == "head":
                from ggzy.ledger.services import sign_tree_head

                sth = sign_tree_head()
                if sth is None:
                    raise CommandError("the ledger is empty")
                self._json(proofs.tree_head_json(sth))
            elif action == "proof":
                self._json(proofs.inclusion_proof(opts["seq"], opts.get("tree_size")))
            elif action == "consistency":
                self._json(proofs.consistency_proof(opts["old"], opts["new"]))
            elif action == "chain":
                from ggzy.ledger.services import chain_pending

                self.stdout.write(f"chained {chain_pending()} pending events")
            elif action == "chainer":
                from ggzy.ledger.append import run_chainer

                self.stdout.write(f"chained {run_chainer(stop_after=opts.get('seconds'))} events")
            elif action == "key":
                self.stdout.write(signing.public_key_pem(), ending="")
            elif action == "check-proof":
                key = (
                    Path(opts["key"]).read_text(encoding="utf-8")
                    if opts.get("key")
                    else signing.public_key_pem()
                )
                with open(opts["file"], encoding="utf-8") as fh:
                    self.stdout.write("OK: " + offline.check(json.load(fh), key))
            elif action == "verify":
                report = verify_ledger()
                self._json(report.as_dict())
                if not report.ok:
                    first = report.problems[0]
                    raise CommandError(
                        f"ledger does not verify: first bad sequence {first.seq} ({first.kind}: {first.message})"
                    )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        except offline.ProofInvalid as exc:
            raise CommandError(f"INVALID: {exc}") from exc

    def _json(self, data: Any) -> None:
        self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str))
