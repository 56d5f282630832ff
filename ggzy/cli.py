"""The ``ggzy`` operator command: ``ggzy serve``, ``ggzy demo``, ``ggzy migrate``,
``ggzy ledger …`` and every other Django management command."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ggzy.settings")
    from django.core.management import execute_from_command_line

    from ggzy.ledger.context import acting_from

    args = list(sys.argv[1:] if argv is None else argv)
    with acting_from("cli"):
        execute_from_command_line(["ggzy", *args])


if __name__ == "__main__":
    main()
