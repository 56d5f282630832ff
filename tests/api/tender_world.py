"""A tender world for the API matrices (tests/api): a tenderer entity administered by a given
user, and builders for every state a tendering, fairness, deposit, bid or opening call needs.

Everything a call consumes (a submitted project to accept, an open objection to answer, a bid to
withdraw, an opening to close) is made FRESH by each builder, through the services, so a request
builder can call one before the snapshot. What can be shared inside one test (the tenderer
entity, the extra bidders an opening needs) is made once, on first use.
"""

from __future__ import annotations

import base64
import io
import json
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from ggzy.accounts.models import User
from ggzy.accounts.roles import Role
from ggzy.bidding import bids, deposits, opening
from ggzy.bidding.models import Bid, Deposit, Opening, OpeningObjection
from ggzy.fairness.models import Finding
from ggzy.fairness.services import install_default_rules, review_project
from ggzy.registry.models import Entity
from ggzy.tendering import services as tendering
from ggzy.tendering.models import Objection, Project, Section, TenderDocument
from ggzy.trust.issuing import Issued
from ggzy_client import envelope as envelope_format
from ggzy_client import signatures
from tests.api.support import register
from tests.conftest import make_user
from tests.trust import pki

FAMILY = "ecdsa"
BAD_CLAUSE = "投标人须在本市设立分支机构或办事处。"  # what fair-competition rule F01 finds
GUARANTEE_ISSUER_USCC_N = 880


def section_terms(**overrides: Any) -> dict[str, Any]:
    terms: dict[str, Any] = {
        "name": "主体工程施工",
        "estimated_price": "10000000.00",
        "max_price": "9800000.00",
        "deposit": "200000.00",
        "qualification_requirements": "具有建筑工程施工总承包二级及以上资质",
        "evaluation_method": "lowest_price",
        "bid_validity_days": 90,
        "duration_days": 365,
    }
    terms.update(overrides)
    return terms


def project_body(tenderer_uscc: str | None = None, **overrides: Any) -> dict[str, Any]:
    """A project's terms as the API takes them (with ``tenderer`` when registering)."""
    body: dict[str, Any] = {
        "name": "南京市某中学教学楼新建工程",
        "category": "works",
        "procedure": "open_tender",
        "region": "320100",
        "funding_source": "财政资金",
        "budget": "12000000.00",
        "investment_project_code": "2026-320100-47-01-000123",
        "sections": [section_terms()],
    }
    if tenderer_uscc is not None:
        body["tenderer"] = tenderer_uscc
    body.update(overrides)
    return body


def _terms() -> tendering.ProjectTerms:
    return tendering.ProjectTerms(**project_body())


@dataclass
class Bidder:
    user: User
    entity: Entity
    certificate: Issued


@dataclass
class Sealed:
    data: bytes  # the envelope as uploaded
    content_key: bytes


def seal(certificate: Issued, section_code: str, *, price: str = "9500000.00") -> Sealed:
    """A bid sealed the way ``ggzy-client seal`` does (bid.json + a technical part), and the
    content key the bidder unwraps from its own copy."""
    with tempfile.TemporaryDirectory(prefix="ggzy-bid-") as work:
        form = Path(work) / "bid.json"
        form.write_text(json.dumps({"price": price, "duration_days": 300}))
        technical = Path(work) / "technical.txt"
        technical.write_bytes(b"technical proposal")
        out = Path(work) / "bid.ggzy-bid"
        keystore = pki.keystore(certificate)
        envelope_format.seal(files=[form, technical], section=section_code, keystore=keystore,
                             cipher="aes-256-gcm", out=out)  # fmt: skip
        return Sealed(out.read_bytes(), envelope_format.unwrap_content_key(out, keystore))


class TenderWorld:
    """``tenderer`` administers the tenderer entity; ``bidder`` acts for ``bidder_entity`` with
    ``certificate`` (the entity's certificate bound to it); ``intake`` accepts, ``operations``
    runs openings and refunds. ``clock`` is the frozen clock's handle."""

    def __init__(
        self,
        *,
        tenderer: User,
        intake: User,
        operations: User,
        bidder: User,
        bidder_entity: Entity,
        certificate: Issued,
        clock: Any,
    ) -> None:
        self.tenderer = tenderer
        self.intake = intake
        self.operations = operations
        self.bidder = Bidder(bidder, bidder_entity, certificate)
        self.clock = clock

    @cached_property
    def tenderer_entity(self) -> Entity:
        return register(self.tenderer, 800, name="南京市某中学", is_bidder=False,
                        is_tenderer=True, entity_type="institution")  # fmt: skip

    @cached_property
    def others(self) -> list[Bidder]:
        """Two more bidders with bound certificates: an opening needs three bids (R15)."""
        out = []
        for n in (1, 2):
            user = make_user(f"tw_bidder{n}", Role.BIDDER)
            entity = register(user, 810 + n)
            issued = pki.entity_cert(FAMILY, entity.uscc, entity.name)
            pki.bind(user, issued, entity)
            out.append(Bidder(user, entity, issued))
        return out

    @cached_property
    def issuer(self) -> Bidder:
        """A guarantee issuer (a bank) registered with its certificate bound."""
        user = make_user("tw_bank", Role.BIDDER)
        entity = register(user, GUARANTEE_ISSUER_USCC_N, name="测试银行南京分行")
        issued = pki.entity_cert(FAMILY, entity.uscc, "测试银行")
        pki.bind(user, issued, entity)
        return Bidder(user, entity, issued)

    # --- projects ---------------------------------------------------------------------------

    def draft(self) -> Project:
        return tendering.register_project(
            actor=self.tenderer, tenderer=self.tenderer_entity, terms=_terms()
        )

    @cached_property
    def agency(self) -> tuple[User, Entity]:
        """An agent entity and its admin (not one of the matrix's actors)."""
        user = make_user("tw_agent", Role.AGENT)
        entity = register(user, 820, name="江苏某招标代理有限公司", is_bidder=False, is_agent=True)
        return user, entity

    def agency_pending(self) -> Project:
        """A draft the agent registered, waiting for the tenderer to confirm the agent."""
        user, entity = self.agency
        return tendering.register_project(
            actor=user, tenderer=self.tenderer_entity, agent=entity, terms=_terms()
        )

    def submitted(self) -> Project:
        project = self.draft()
        return tendering.submit_project(actor=self.tenderer, project=project)

    def accepted(self) -> Project:
        """Accepted, with its tender document uploaded: ready to publish."""
        project = tendering.accept_project(actor=self.intake, project=self.submitted())
        self.upload(project, "tender", "招标文件.txt", "第一章 招标公告\n投标人须具备相应资质。\n")
        return project

    def published(self, *, days: int = 21) -> Project:
        project = self.accepted()
        now = self.clock.moment
        tendering.publish_project(
            actor=self.tenderer, project=project, announcement="招标公告正文",
            documents_from=now, documents_until=now + timedelta(days=6),
            bid_deadline=now + timedelta(days=days),
        )  # fmt: skip
        return Project.objects.get(pk=project.pk)

    def upload(self, project: Project, kind: str, name: str, text: str) -> TenderDocument:
        return tendering.upload_document(actor=self.tenderer, project=project, kind=kind,
                                         name=name, stream=io.BytesIO(text.encode()))  # fmt: skip

    def document(self, project: Project | None = None) -> TenderDocument:
        """An unpublished document (a drawing) of a draft project, or of ``project``."""
        return self.upload(project or self.draft(), "drawing", "图纸.txt", "总平面图说明")

    def objection(self, project: Project | None = None) -> Objection:
        """An open objection of the bidder's entity on a published project."""
        return tendering.raise_objection(actor=self.bidder.user, project=project or self.published(),
                                         entity=self.bidder.entity, text="资格条件过高")  # fmt: skip

    def finding(self) -> Finding:
        """An open blocking finding of the latest review of a draft project."""
        install_default_rules(actor="system:test")
        project = self.draft()
        self.upload(project, "tender", "招标文件.txt", f"第一章 招标公告\n{BAD_CLAUSE}\n")
        review = review_project(actor="system:test", project=project)
        return review.findings.first()  # type: ignore[return-value]

    @staticmethod
    def section(project: Project) -> Section:
        return Section.objects.select_related("project__ruleset", "project__tenderer").get(
            project=project, number=1
        )

    def open_section(self) -> Section:
        return self.section(self.published())

    def past_deadline(self, section: Section) -> Section:
        assert section.bid_deadline is not None
        self.clock.set(section.bid_deadline + timedelta(minutes=1))
        return section

    # --- deposits ---------------------------------------------------------------------------

    def deposit(self, section: Section | None = None, method: str = "transfer") -> Deposit:
        return deposits.open_deposit(actor=self.bidder.user, section=section or self.open_section(),
                                     entity=self.bidder.entity, method=method)  # fmt: skip

    def refund_due(self) -> Deposit:
        """A paid deposit whose bid was withdrawn: due for refund (the same one on every call:
        refused attempts leave it due)."""
        due = getattr(self, "_refund_due", None)
        if due is not None:
            due.refresh_from_db()
            return due
        deposit = self.deposit()
        deposits.record_bank_notice(actor=deposits.BANK, **self.notice(deposit))
        self._refund_due = deposits.schedule_refund(deposit=deposit, trigger="withdrawn",
                                                    at=self.clock.moment)  # fmt: skip
        return self._refund_due

    def notice(self, deposit: Deposit, reference: str = "BANK-0001") -> dict[str, Any]:
        return {
            "bank_reference": reference,
            "virtual_account": deposit.virtual_account,
            "amount": str(deposit.amount),
            "payer_account": "6217000000000001",
            "payer_name": self.bidder.entity.name,
            "payer_bank": "中国银行南京分行",
            "credited_at": self.clock.moment.isoformat(),
        }

    def guarantee(self, deposit: Deposit) -> dict[str, Any]:
        """The body of ``POST /deposits/{id}/guarantee``: the issuer's signed guarantee."""

        section = deposit.section
        assert section.bid_deadline is not None
        document = json.dumps({
            "guarantee_number": f"BH2026-{deposit.pk:04d}",
            "issuer_uscc": self.issuer.entity.uscc,
            "beneficiary": self.tenderer_entity.uscc,
            "applicant": deposit.entity.uscc,
            "section": section.code,
            "amount": str(section.deposit),
            "valid_until": (section.bid_deadline + timedelta(days=120)).date().isoformat(),
        }, ensure_ascii=False).encode()  # fmt: skip
        sigfile = signatures.sign_detached(document, pki.keystore(self.issuer.certificate))
        return {"document": base64.b64encode(document).decode(), "sigfile": sigfile}

    # --- bids and the opening ---------------------------------------------------------------

    def sealed(self, section: Section, bidder: Bidder | None = None) -> Sealed:
        bidder = bidder or self.bidder
        return seal(bidder.certificate, section.code or "")

    def bid(
        self, section: Section | None = None, bidder: Bidder | None = None
    ) -> tuple[Bid, bytes]:
        """A bid received for ``section`` (a fresh open one by default): (bid, content key)."""
        section = section or self.open_section()
        bidder = bidder or self.bidder
        sealed = self.sealed(section, bidder)
        with tempfile.NamedTemporaryFile(suffix=".part", delete=False) as handle:
            handle.write(sealed.data)
        bid = bids.submit_bid(actor=bidder.user, section_id=section.public_id,
                              upload=Path(handle.name))  # fmt: skip
        Path(handle.name).unlink(missing_ok=True)
        return bid, sealed.content_key

    def due_for_opening(self) -> tuple[Section, Bid, bytes]:
        """A section with three bids (the bidder's first), its deadline just passed."""
        section = self.open_section()
        bid, key = self.bid(section)
        for other in self.others:
            self.bid(section, other)
        return self.past_deadline(section), bid, key

    def decrypting(self) -> tuple[Opening, Bid, bytes]:
        """An opening started (decrypting) with three bids; the bidder's bid and its key."""
        section, bid, key = self.due_for_opening()
        session = opening.start_opening(actor=self.operations, section=section)
        return session, Bid.objects.get(pk=bid.pk), key

    def opening_objection(self) -> OpeningObjection:
        session, _, _ = self.decrypting()
        return opening.raise_opening_objection(actor=self.bidder.user, opening=session,
                                               entity=self.bidder.entity, text="开标时间有误")  # fmt: skip
