"""``ggzy ca add | add-cert | list | suspend | reinstate | retire | crl | crl-refresh`` — the
trust store (CA 互认)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count

from ggzy.core.errors import DomainError
from ggzy.trust.states import CAStatus

ACTOR = "system:cli"
STATUS_ACTIONS = {
    "suspend": CAStatus.SUSPENDED,
    "reinstate": CAStatus.ACTIVE,
    "retire": CAStatus.RETIRED,
}


def read_file(path: str) -> bytes:
    """The bytes of ``path``, or a one-line CommandError (never a traceback)."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CommandError(
            f"无法读取文件 (cannot read file) {path}: {exc.strerror or exc}", returncode=2
        ) from None


class Command(BaseCommand):
    help = "Manage the recognized CAs (入驻CA): onboard, add certificates, status, CRLs."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        a = sub.add_parser("add", help="onboard a CA from its root (+ intermediate) certificates")
        a.add_argument("files", nargs="+", metavar="FILE", help="PEM or DER certificate files")
        a.add_argument("--code", required=True)
        a.add_argument("--name", required=True)
        a.add_argument("--subject-attribute", default="", help="OID or name carrying USCC / ID")
        a.add_argument("--crl-url", default="")
        c = sub.add_parser("add-cert", help="add a new intermediate or root to a recognized CA")
        c.add_argument("code")
        c.add_argument("files", nargs="+", metavar="FILE")
        ls = sub.add_parser("list", help="the recognized CAs")
        ls.add_argument("--json", action="store_true")
        for action in STATUS_ACTIONS:
            s = sub.add_parser(action, help=f"{action} a CA")
            s.add_argument("code")
            if action != "reinstate":
                s.add_argument("--reason", default="")
        r = sub.add_parser("crl", help="import a CRL file, or --fetch it from the CA's CRL URL")
        r.add_argument("code")
        r.add_argument("file", nargs="?")
        r.add_argument("--fetch", action="store_true")
        sub.add_parser(
            "crl-refresh",
            help="fetch the CRL of every CA that has a CRL URL (for a nightly job); exit 1 if any fails",
        )

    def handle(self, *args: Any, action: str, **opts: Any) -> None:
        try:
            if action == "add":
                self._add(opts)
            elif action == "add-cert":
                self._add_cert(opts)
            elif action == "list":
                self._list(opts["json"])
            elif action in STATUS_ACTIONS:
                self._set_status(opts["code"], STATUS_ACTIONS[action], opts.get("reason") or "")
            elif action == "crl":
                self._crl(opts)
            elif action == "crl-refresh":
                self._crl_refresh()
        except DomainError as exc:
            raise CommandError(f"[{exc.code}] {exc.message}") from exc

    def _add(self, opts: dict[str, Any]) -> None:
        from ggzy.trust import services

        authority = services.onboard_ca(
            actor=ACTOR,
            code=opts["code"],
            name=opts["name"],
            certificates=[read_file(f) for f in opts["files"]],
            subject_id_attribute=opts["subject_attribute"],
            crl_url=opts["crl_url"],
        )
        self._print_authority(authority.code)

    def _add_cert(self, opts: dict[str, Any]) -> None:
        from ggzy.trust import selectors, services

        authority = selectors.get_authority(opts["code"])
        blobs = [read_file(f) for f in opts["files"]]
        for row in services.add_ca_certificates(
            actor=ACTOR, authority=authority, certificates=blobs
        ):
            self.stdout.write(f"added {_cert_line(row)}")

    def _list(self, as_json: bool) -> None:
        rows = [_summary(a) for a in _listing()]
        if as_json:
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        for r in rows:
            self.stdout.write(
                f"{r['code']:<20} {r['status']:<10} {','.join(r['families']) or '-':<16} "
                f"{r['certificates']:>3} certs  CRL {r['crl_updated'] or '-':<25}"
                f"{' OVERDUE' if r['crl_overdue'] else ''}  {r['name']}"
            )

    def _set_status(self, code: str, status: str, reason: str) -> None:
        from ggzy.trust import selectors, services

        authority = services.set_ca_status(
            actor=ACTOR, authority=selectors.get_authority(code), status=status, reason=reason
        )
        self.stdout.write(f"{authority.code}: {authority.status}")

    def _crl(self, opts: dict[str, Any]) -> None:
        from ggzy.trust import selectors, services

        if bool(opts["file"]) == bool(opts["fetch"]):
            raise CommandError("给出 CRL 文件或 --fetch 之一 (give a CRL FILE or --fetch)")
        authority = selectors.get_authority(opts["code"])
        if opts["fetch"]:
            crl = services.fetch_crl(actor=ACTOR, authority=authority)
        else:
            crl = services.import_crl(
                actor=ACTOR,
                data=read_file(opts["file"]),
                source=f"cli:{Path(opts['file']).name}",
                authority=authority,
            )
        self.stdout.write(
            f"CRL {crl.fingerprint[:16]} issuer {crl.issuer.subject}: {crl.entries} entries, "
            f"this update {crl.this_update.isoformat()}, number {crl.number}"
        )

    def _crl_refresh(self) -> None:
        """Every CA with a CRL address, in turn: one failure does not stop the others."""
        from ggzy.trust import selectors, services

        failed = []
        for authority in selectors.authorities().exclude(crl_url="").exclude(status="retired"):
            try:
                crl = services.fetch_crl(actor=ACTOR, authority=authority)
            except DomainError as exc:
                failed.append(authority.code)
                self.stdout.write(f"{authority.code}: failed [{exc.code}] {exc.message}")
                continue
            self.stdout.write(
                f"{authority.code}: CRL {crl.fingerprint[:16]}, {crl.entries} entries, "
                f"this update {crl.this_update.isoformat()}"
            )
        if failed:
            raise CommandError(f"[crl_refresh_failed] {', '.join(failed)}")

    def _print_authority(self, code: str) -> None:
        from ggzy.trust import selectors

        authority = selectors.get_authority(code)
        self.stdout.write(f"{authority.code}  {authority.name}  [{authority.status}]")
        for row in authority.certificates.all():
            self.stdout.write(f"  {_cert_line(row)}")


def _listing() -> Any:
    from ggzy.trust import selectors

    return selectors.authorities().annotate(certificate_count=Count("certificates", distinct=True))


def _summary(authority: Any) -> dict[str, Any]:
    from ggzy.trust.selectors import crl_state

    crl = crl_state(authority)
    return {
        "code": authority.code,
        "name": authority.name,
        "status": authority.status,
        "families": sorted({c.family for c in authority.certificates.all()}),
        "certificates": authority.certificate_count,
        "crl_updated": crl["this_update"].isoformat() if crl["this_update"] else None,
        "crl_overdue": crl["overdue"],
    }


def _cert_line(row: Any) -> str:
    kind = "root" if row.is_root else "intermediate"
    return f"{row.fingerprint}  {row.family:<5} {kind:<12} {row.subject}"
