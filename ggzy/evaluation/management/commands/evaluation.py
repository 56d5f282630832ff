"""``ggzy evaluation list | show SESSION | report SESSION [--bytes OUT] [--markdown]``.

For operators: ``show`` prints the session's state, committee progress (counts, never points)
and bids as JSON; ``report`` prints the stored report (the canonical JSON every member signs)
with its SHA-256 and signature status, or writes the exact bytes to a file. A refusal is one
line, ``[code] message``."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


def _session(ident: str) -> Any:
    from ggzy.evaluation.models import EvaluationSession

    session = (
        EvaluationSession.objects.select_related("section__project")
        .filter(public_id=ident[:32])
        .first()
    )
    if session is None:
        raise CommandError(f"[session_not_found] 评标会不存在 (no such session): {ident}")
    return session


class Command(BaseCommand):
    help = "Evaluation sessions (评标): list, show, report"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="sessions, newest first")
        show = sub.add_parser("show", help="one session: state, committee progress, bids (JSON)")
        show.add_argument("session")
        report = sub.add_parser("report", help="the stored report, its SHA-256 and signatures")
        report.add_argument("session")
        report.add_argument("--bytes", dest="out", help="write the exact signed bytes here")
        report.add_argument("--markdown", action="store_true", help="a readable rendering")

    def handle(self, *args: Any, action: str, **opts: Any) -> None:
        getattr(self, f"_{action}")(opts)

    def _list(self, opts: dict[str, Any]) -> None:
        from ggzy.evaluation.models import EvaluationSession

        for s in EvaluationSession.objects.select_related("section").order_by("-created_at"):
            self.stdout.write(f"{s.public_id}  {s.status:<13} {s.section.code or '-'}  "
                              f"{s.section.name}")  # fmt: skip

    def _show(self, opts: dict[str, Any]) -> None:
        from ggzy.evaluation.services_report import progress

        session = _session(opts["session"])
        out = {
            "public_id": session.public_id,
            "section": session.section.code,
            "status": session.status,
            "panel": session.panel,
            "method": session.scheme["method"],
            "label_commitment": session.label_commitment,
            "scoring_deadline": session.scoring_deadline,
            "progress": progress(session),
            "bids": [
                {
                    "label": b.label,
                    "bidder": b.entity.name,
                    "price": str(b.price),
                    "valid": b.valid,
                    "invalid_reason": b.invalid_reason,
                    "low_price": b.low_price,
                }
                for b in session.bids.select_related("entity")
            ],
            "report_sha256": session.report_sha256,
            "signatures": session.signatures.count(),
        }
        self.stdout.write(json.dumps(out, ensure_ascii=False, indent=2, default=str))

    def _report(self, opts: dict[str, Any]) -> None:
        session = _session(opts["session"])
        if not session.report:
            raise CommandError("[report_not_found] 评标报告尚未生成 (no report yet)")
        data = bytes(session.report)
        if hashlib.sha256(data).hexdigest() != session.report_sha256:
            raise CommandError("[report_digest_mismatch] 报告字节与其SHA-256不符 (tampered?)")
        if opts["out"]:
            Path(opts["out"]).write_bytes(data)
            self.stdout.write(f"{session.report_sha256}  {opts['out']}")
            return
        report = json.loads(data)
        if opts["markdown"]:
            self._markdown(report)
            return
        signed = {s.member_id: s for s in session.signatures.all()}
        self.stdout.write(json.dumps({
            "sha256": session.report_sha256, "status": session.status,
            "signatures": [{"member": m.ref, "signed": m.pk in signed}
                           for m in session.members.all()],
            "report": report,
        }, ensure_ascii=False, indent=2))  # fmt: skip

    def _markdown(self, report: dict[str, Any]) -> None:
        lines = [f"# 评标结果 {report['section_id']}", "", "| 排名 | 投标文件 | 报价 | 总分 |",
                 "|---|---|---|---|"]  # fmt: skip
        for b in report["bids"]:
            if b["valid"]:
                lines.append(f"| {b['rank']} | {b['bidder_name']} | {b['price']} | "
                             f"{b['total'] or '—'} |")  # fmt: skip
        lines += ["", "中标候选人：" + "、".join(report["candidates"])]
        invalid = [b for b in report["bids"] if not b["valid"]]
        lines += [f"- 无效：{b['bidder_name']}：{b['invalid_reason']}" for b in invalid]
        self.stdout.write("\n".join(lines))
