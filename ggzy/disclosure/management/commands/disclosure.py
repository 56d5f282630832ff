"""``ggzy disclosure project [--follow]``, ``rebuild``, ``reindex [--batch N]`` and
``ggzy disclosure search "…" [--kind …] [--json]``.

``project`` lets the projector catch up with the ledger (``--follow``: keep doing so, as a
worker beside the web server); ``rebuild`` reads the whole ledger again; ``reindex`` rebuilds the full-text index from the public records (batched); ``search`` runs the
portal's search. Subcommands live in :data:`SUBCOMMANDS` (name → adder, handler), so others can
add theirs beside these."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from ggzy.core.errors import DomainError


def _add_project(parser: ArgumentParser) -> None:
    parser.add_argument("--follow", action="store_true", help="keep projecting (a worker)")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between passes")


def _project(out: OutputWrapper, opts: dict[str, Any]) -> None:
    import time

    from ggzy.disclosure import projector

    if not 0.05 <= opts["interval"] <= 3600:
        raise CommandError("[bad_interval] --interval 应为 0.05–3600 秒")
    while True:
        done = projector.catch_up(limit=10**9)
        if done.events or done.written or not opts["follow"]:
            out.write(f"已读取 {done.events} 个事件，写入 {done.written} 条公开记录 "
                      f"(read {done.events} events, wrote {done.written} records)")  # fmt: skip
        if not opts["follow"]:
            return
        time.sleep(opts["interval"])


def _add_rebuild(parser: ArgumentParser) -> None:
    pass


def _rebuild(out: OutputWrapper, opts: dict[str, Any]) -> None:
    from ggzy.disclosure import projector

    done = projector.rebuild_all()
    out.write(f"已重读 {done.events} 个事件，更新 {done.written} 条公开记录 "
              f"(read {done.events} events again, {done.written} records changed)")  # fmt: skip


def _add_reindex(parser: ArgumentParser) -> None:
    parser.add_argument("--batch", type=int, default=2000, help="records per transaction")


def _reindex(out: OutputWrapper, opts: dict[str, Any]) -> None:
    from ggzy.disclosure import search

    if not 1 <= opts["batch"] <= 50_000:
        raise CommandError("[bad_batch] --batch 应为 1–50000")
    count = search.reindex(batch_size=opts["batch"])
    out.write(f"已重建索引 {count} 条 (indexed {count} records)")


def _add_search(parser: ArgumentParser) -> None:
    parser.add_argument("q", help="检索词 (the words to find)")
    for name in ("kind", "category", "region", "procedure", "status", "source", "date_from",
                 "date_to"):  # fmt: skip
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, default=None)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--offset", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="the API's JSON")


def _search(out: OutputWrapper, opts: dict[str, Any]) -> None:
    from ggzy.disclosure import search
    from ggzy.disclosure.api_search import page_out

    names = ("kind", "category", "region", "procedure", "status", "source", "date_from",
             "date_to", "limit", "offset")  # fmt: skip
    page = search.search(opts["q"], **{n: opts[n] for n in names})
    if opts["json"]:
        out.write(json.dumps(page_out(page), ensure_ascii=False, default=str))
        return
    more = "" if page.total_exact else "+"
    out.write(f"{page.total}{more} 条 (hits) · 词语 (terms): {' '.join(page.terms)}"
              f"{' · 部分匹配 (relaxed)' if page.relaxed else ''}")  # fmt: skip
    for hit in page.hits:
        r = hit.record
        out.write(f"{hit.score:8.3f}  {r.published_at:%Y-%m-%d}  {r.kind:<15} {r.key}  {r.title}")


Subcommand = tuple[Callable[[ArgumentParser], None], Callable[[OutputWrapper, dict[str, Any]], None],
                   str]  # fmt: skip
SUBCOMMANDS: dict[str, Subcommand] = {
    "project": (_add_project, _project, "let the projector catch up with the ledger"),
    "rebuild": (_add_rebuild, _rebuild, "build every public record again from the ledger"),
    "reindex": (_add_reindex, _reindex, "rebuild the search index from the public records"),
    "search": (_add_search, _search, "search the public records"),
}


class Command(BaseCommand):
    help = "Public disclosure (信息公开): project, rebuild, reindex, search"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        for name, (add, _handle, text) in SUBCOMMANDS.items():
            add(sub.add_parser(name, help=text))

    def handle(self, *args: Any, action: str, **opts: Any) -> None:
        try:
            SUBCOMMANDS[action][1](self.stdout, opts)
        except DomainError as exc:
            raise CommandError(f"[{exc.code}] {exc.message}") from exc
