"""``ggzy cert verify FILE [--purpose sign|login|encrypt] [--at ISO] [--json]``.

Exit 0: the certificate is accepted (the report is printed). Exit 1: rejected, printed as
``rejected [code]: message``. Exit 2: the file cannot be read or is not one certificate.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ggzy.core.errors import DomainError
from ggzy.trust.management.commands.ca import read_file
from ggzy.trust.validation import PURPOSE_USAGES, CertificateRejected


class Command(BaseCommand):
    help = "Check a certificate against the trust store (证书验证)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        v = sub.add_parser("verify", help="validate an end-entity certificate (PEM or DER)")
        v.add_argument("file")
        v.add_argument("--purpose", choices=sorted(PURPOSE_USAGES))
        v.add_argument("--at", help="ISO 8601 moment with timezone (default: now)")
        v.add_argument("--json", action="store_true")

    def handle(self, *args: Any, action: str, **opts: Any) -> None:
        from ggzy.trust import validation

        moment = _moment(opts.get("at"))
        data = read_file(opts["file"])
        try:
            cert = validation.parse_certificate(data)
        except CertificateRejected as exc:
            raise CommandError(
                f"{opts['file']}: [{exc.code}] {exc.message}", returncode=2
            ) from None
        try:
            report = validation.validate(cert, purpose=opts.get("purpose"), at=moment)
        except DomainError as exc:
            if opts["json"]:
                self.stdout.write(json.dumps({"rejected": exc.as_dict()}, ensure_ascii=False))
            else:
                self.stdout.write(f"rejected [{exc.code}]: {exc.message}")
            raise SystemExit(1) from None
        data_out = report.as_dict()
        if opts["json"]:
            self.stdout.write(json.dumps(data_out, ensure_ascii=False, indent=2, default=str))
            return
        self.stdout.write("valid")
        for key in ("subject", "issuer", "authority", "family", "serial", "fingerprint"):
            self.stdout.write(f"{key + ':':<20}{data_out[key]}")
        self.stdout.write(f"{'chain:':<20}{' → '.join(data_out['chain'])}")
        self.stdout.write(
            f"{'identifier:':<20}{data_out['subject_identifier'] or '-'} ({data_out['kind'] or '-'})"
        )
        self.stdout.write(f"{'validity:':<20}{data_out['not_before']} .. {data_out['not_after']}")


def _moment(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(
            f"--at 不是 ISO 时间 (not an ISO 8601 time): {value}", returncode=2
        ) from None
    if moment.tzinfo is None:
        raise CommandError(
            "--at 须带时区，如 2026-11-23T10:00+08:00 (timezone required)", returncode=2
        )
    return moment
