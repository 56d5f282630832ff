"""``ggzy demo [--reset]``: load the demo world (idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Load the demo world: regions, ~50 entities, a user for every role (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset", action="store_true", help="empty the database first (demo only!)"
        )

    def handle(self, *args: Any, reset: bool, **opts: Any) -> None:
        from django.db import connection

        from ggzy.ledger import triggers
        from ggzy.registry.demo import DEMO_PASSWORD, load_demo

        if reset:
            with triggers.unlocked(connection):
                call_command("flush", interactive=False, verbosity=0)
            self.stdout.write("database emptied")
        result = load_demo()
        self.stdout.write("demo world loaded" if result.created else "demo world already present")
        self.stdout.write(f"{result.entities} entities. Demo users (password {DEMO_PASSWORD}):")
        for username, display, roles in result.users:
            self.stdout.write(f"  {username:<12} {roles:<20} {display}")
        self.stdout.write("Also bidder01…, tenderer07…, agent05… — one user per demo entity.")
        from ggzy.catalog.services import install_default_catalog

        installed = install_default_catalog(actor="system:demo")
        self.stdout.write(f"trading catalog: {installed or 'already'} categories installed")
        self._demo_pki()
        self._demo_tender()
        self._demo_experts()
        self._demo_venues()
        self._demo_evaluation()
        self._demo_external()
        self._demo_supervision()

    def _demo_pki(self) -> None:
        from django.conf import settings

        from ggzy.trust.demo import load_demo_pki

        pki = load_demo_pki(settings.VAR_DIR)
        state = "created" if pki.created else "already present"
        self.stdout.write(f"demo PKI {state}: keystores under {pki.root}/<username>/key.pem")
        for family, (username, path) in pki.samples().items():
            self.stdout.write(f"  {family:<6} {username:<12} {path}")

    def _demo_tender(self) -> None:
        from django.conf import settings

        from ggzy.bidding.demo import load_demo_tender
        from ggzy.fairness.services import install_default_rules

        rules = install_default_rules(actor="system:demo")
        self.stdout.write(f"fair-competition rules: {rules or 'already'} installed")

        tender = load_demo_tender(settings.VAR_DIR)
        state = "created" if tender.created else "already present"
        self.stdout.write(f"demo tenders {state}:")
        for name, public_id in tender.projects:
            self.stdout.write(f"  {name}  /projects/{public_id}/")

    def _demo_experts(self) -> None:
        from ggzy.experts.demo import load_demo_experts

        pool = load_demo_experts()
        state = "created" if pool.created else "already present"
        self.stdout.write(
            f"expert pool {state}: {pool.specialties} specialties, {pool.experts} experts"
            " (zhuanjia in the pool; zhuanjia02, zhuanjia03 waiting for approval)"
        )

    def _demo_venues(self) -> None:
        from ggzy.venues.demo import load_demo_venues

        venues = load_demo_venues()
        state = "created" if venues.created else "already present"
        self.stdout.write(
            f"venues {state}: {venues.sites} sites (Nanjing, Suzhou, Guiyang), {venues.venues}"
            f" venues, {len(venues.sessions)} remote evaluation session(s) at /venues/sessions/"
        )

    def _demo_evaluation(self) -> None:
        from django.conf import settings

        from ggzy.evaluation.demo import load_demo_evaluation

        result = load_demo_evaluation(settings.VAR_DIR)
        state = "created" if result.created else "already present"
        self.stdout.write(
            f"demo result {state}: {result.project} drawn, evaluated, awarded and contracted"
            f" (committee {', '.join(result.committee)}; keystores under demo-keys/<username>)"
        )
        for what, url in result.pages():
            self.stdout.write(f"  {what:<44} {url}")

    def _demo_external(self) -> None:
        from ggzy.exchange.demo import load_demo_external

        result = load_demo_external()
        state = "created" if result.created else "already present"
        self.stdout.write(f"external trading system {state}: {result.code}, its project at"
                          f" /disclosure/projects/{result.project}/ (systems: /disclosure/systems/)")  # fmt: skip
        if result.key:
            self.stdout.write(f"  its API key (shown this once): {result.key}")

    def _demo_supervision(self) -> None:
        from ggzy.supervision.demo import load_demo_supervision

        result = load_demo_supervision()
        state = "created" if result.created else "already present"
        self.stdout.write(f"supervision {state}: {result.alerts} alerts at /supervision/ (sign in as"
                          f" jianguan); historical data set /supervision/datasets/{result.dataset}/")  # fmt: skip
