"""Platform roles (DESIGN.md "Who uses it") and the permissions each one holds.

Center staff duties are separated (受理 / 组织 / 归档 / 财务): no single staff role both accepts
a project and runs its opening, and the deposit desk is not the opening desk. Permissions are names; the access gate is the only place that maps
them to roles, so a domain never checks a role directly.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    BIDDER = "bidder", _("投标人/供应商/竞买人")
    TENDERER = "tenderer", _("招标人/采购人/出让人")
    AGENT = "agent", _("招标代理")
    EXPERT = "expert", _("评标专家")
    CENTER_INTAKE = "center_intake", _("交易中心·受理")
    CENTER_OPERATIONS = "center_operations", _("交易中心·组织")
    CENTER_ARCHIVE = "center_archive", _("交易中心·归档")
    CENTER_FINANCE = "center_finance", _("交易中心·财务")
    CENTER_ADMIN = "center_admin", _("交易中心·系统管理")
    REGULATOR = "regulator", _("行政监督部门")
    INSPECTOR = "inspector", _("纪检监察")
    AUDITOR = "auditor", _("审计")


CENTER_ROLES = {
    Role.CENTER_INTAKE,
    Role.CENTER_OPERATIONS,
    Role.CENTER_ARCHIVE,
    Role.CENTER_FINANCE,
    Role.CENTER_ADMIN,
}
SUPERVISION_ROLES = {Role.REGULATOR, Role.INSPECTOR, Role.AUDITOR}
MARKET_ROLES = {Role.BIDDER, Role.TENDERER, Role.AGENT}

# permission -> roles that hold it. Anonymous users hold only what is listed under PUBLIC.
PUBLIC = frozenset(
    {
        "entity.view_public",
        "ledger.view_public",
        "trust.view_store",
        "catalog.view",
        "tendering.view",
        "experts.view_taxonomy",
        "award.view_public",
    }
)
PERMISSIONS: dict[str, frozenset[str]] = {
    "entity.register": frozenset(MARKET_ROLES),
    "entity.view_private": frozenset(CENTER_ROLES | SUPERVISION_ROLES),
    "entity.edit": frozenset({Role.CENTER_INTAKE, Role.CENTER_ADMIN}),
    "entity.manage_members": frozenset({Role.CENTER_ADMIN}),
    "entity.act": frozenset(),  # only the entity's own members (object rule)
    "entity.suspend": frozenset({Role.CENTER_ADMIN, Role.REGULATOR}),
    "ledger.view_payload": frozenset(CENTER_ROLES | SUPERVISION_ROLES),
    "calendar.edit": frozenset({Role.CENTER_ADMIN}),
    "catalog.edit": frozenset({Role.CENTER_ADMIN}),
    "backoffice.view": frozenset(CENTER_ROLES),
    "region.edit": frozenset({Role.CENTER_ADMIN}),
    "accounts.manage": frozenset({Role.CENTER_ADMIN}),
    # the national exchange and the external trading systems (ggzy.exchange)
    "exchange.view": frozenset(CENTER_ROLES),
    "exchange.manage": frozenset({Role.CENTER_ADMIN}),
    "token.issue": frozenset(Role.values),
    "trust.manage": frozenset({Role.CENTER_ADMIN}),
    "trust.bind": frozenset(Role.values),
    "trust.manage_binding": frozenset(),  # the holder only (object rule)
    "trust.sign": frozenset(Role.values),
    "trust.view_signatures": frozenset(CENTER_ROLES | SUPERVISION_ROLES),
    "trust.view_envelopes": frozenset(CENTER_ROLES | SUPERVISION_ROLES),
    "trust.open_envelope": frozenset({Role.CENTER_OPERATIONS}),
    # tendering: the tenderer's and agent's members act on their project (object rule)
    "tendering.register": frozenset({Role.TENDERER, Role.AGENT}),
    "tendering.edit": frozenset(),
    "tendering.publish": frozenset(),
    "tendering.answer": frozenset(),
    "tendering.view_private": frozenset(CENTER_ROLES | SUPERVISION_ROLES),
    "tendering.accept": frozenset({Role.CENTER_INTAKE}),
    "tendering.object": frozenset({Role.BIDDER}),
    "tendering.view_downloads": frozenset(CENTER_ROLES | SUPERVISION_ROLES),
    "fairness.review": frozenset({Role.CENTER_INTAKE}),
    "fairness.edit_rules": frozenset({Role.CENTER_ADMIN}),
    # bidding: deposits, bids, opening
    "bidding.deposit": frozenset({Role.BIDDER}),
    "bidding.view_deposit": frozenset(CENTER_ROLES | SUPERVISION_ROLES),
    # deposits are the finance desk's, apart from the opening desk: refunds of bids withdrawn
    # before the deadline must not reach the staff who run the opening (R42)
    "bidding.bank_notice": frozenset({Role.CENTER_FINANCE, Role.CENTER_ADMIN}),
    "bidding.refund": frozenset({Role.CENTER_FINANCE}),
    "bidding.submit": frozenset({Role.BIDDER}),
    "bidding.open": frozenset({Role.CENTER_OPERATIONS}),
    # the expert pool: experts apply; the center admin keeps the pool and its taxonomy; the
    # organizing desk rates experts after a session; the expert's own account sees and keeps
    # their record (object rule)
    "experts.apply": frozenset({Role.EXPERT}),
    "experts.self": frozenset(),
    "experts.view_private": frozenset(CENTER_ROLES | SUPERVISION_ROLES),
    "experts.manage": frozenset({Role.CENTER_ADMIN}),
    "experts.taxonomy": frozenset({Role.CENTER_ADMIN}),
    "experts.rate": frozenset({Role.CENTER_OPERATIONS}),
    # the section's tenderer rates the experts of its signed session: members of the project's
    # tenderer or of its confirmed agent (object rule, ggzy.experts.ratings)
    "experts.rate_tenderer": frozenset(),
    # the expert draw: the organizing desk requests draws and starts the reveal at the session;
    # center and supervision staff see a draw's counts (never who, while it is sealed); the
    # supervision roles verify it; an expert answers their own invitation (object rule)
    "experts.draw": frozenset({Role.CENTER_OPERATIONS}),
    "experts.draw_view": frozenset(CENTER_ROLES | SUPERVISION_ROLES),
    "experts.draw_verify": frozenset({Role.AUDITOR, Role.REGULATOR, Role.INSPECTOR}),
    "experts.draw_unseal": frozenset({Role.AUDITOR}),  # see who was examined, once revealed
    "experts.answer": frozenset({Role.EXPERT}),
    # evaluation: the organizing desk creates and runs sessions; committee members review,
    # score and sign on their own session (object rule); the center and supervision watch
    "evaluation.run": frozenset({Role.CENTER_OPERATIONS}),
    "evaluation.view": frozenset(CENTER_ROLES | SUPERVISION_ROLES),
    "evaluation.score": frozenset(),
    # venues and remote evaluation: the center admin keeps sites and venues; the organizing desk
    # books venues, lays out remote sessions and is assigned as witness (见证); a venue's log is
    # written by its own witness only (object rule)
    "venues.view": frozenset(CENTER_ROLES | SUPERVISION_ROLES),
    "venues.manage": frozenset({Role.CENTER_ADMIN}),
    "venues.book": frozenset({Role.CENTER_OPERATIONS}),
    "venues.witness": frozenset({Role.CENTER_OPERATIONS}),
    "venues.record": frozenset(),
    # award: the tenderer's and agent's members manage their sections' results (object rule);
    # a bidder objects for its own entity; the center and supervision see every result and
    # the warnings; the public sees what is published (award.view_public)
    "award.manage": frozenset(),
    "award.view": frozenset(CENTER_ROLES | SUPERVISION_ROLES),
    "award.object": frozenset({Role.BIDDER}),
    # smart supervision (ggzy.supervision): the supervision roles read every alert and report;
    # regulators and inspectors work alerts and import historical data; regulators tune the
    # thresholds; auditors only read
    "supervision.view": frozenset(SUPERVISION_ROLES),
    "supervision.manage": frozenset({Role.REGULATOR, Role.INSPECTOR}),
    "supervision.configure": frozenset({Role.REGULATOR}),
    # complaints (ggzy.complaints): a bidder complains for its own entity (entity.act, object
    # rule as for objections); regulators handle the cases; the supervision roles read them
    "complaints.file": frozenset({Role.BIDDER}),
    "complaints.handle": frozenset({Role.REGULATOR}),
    "complaints.view": frozenset(SUPERVISION_ROLES),
}
