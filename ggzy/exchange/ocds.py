"""OCDS 1.1 releases of one contracting process (with the bids extension).

One contracting process is one **section** (标段/包), with the ocid ``<prefix>-<section
public_id>``: a section is what is bid on, opened, evaluated, awarded and contracted on its own
(its own opening record, candidates' publicity, award notice and contract), so every OCDS stage
after the tender is per section. The project's announcement, documents and clarifications are
shared by its sections and repeated in each section's releases.

Releases, each with a stable id and the date of the step it discloses:

==================  ==========================  =============================================
release id suffix   tag                         disclosed at
==================  ==========================  =============================================
``tender``          tender                      the announcement's publication
``amendment-<n>``   tenderAmendment             clarification *n* (澄清/修改) is issued
``bids``            tenderUpdate                the opening record is signed (开标记录)
``candidates``      award                       the candidates' publicity starts (中标候选人公示)
``award``           award                       the award notice is issued (中标通知书)
``contract``        contract                    the contract is published (合同公告)
==================  ==========================  =============================================

Only what the portal already discloses, and only from when it does (``ggzy.core.clock``): no
bid, bidder or price before the signed opening record; never the invitees of an invited tender
(R42), the committee or the experts, the scores (R61), people's names, ID numbers or phones.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from ggzy.exchange.ocds_fields import (
    AWARD_CRITERIA,
    BIDS_EXTENSION,
    CATEGORY,
    DOCUMENT_TYPE,
    PROCUREMENT_METHOD,
    Clar,
    Doc,
    Loaded,
    Org,
    SectionRow,
    amount,
    money,
    ocid_of,
    party,
    prefix,
    ref,
    source_labels,
    stamp,
)
from ggzy.exchange.ocds_outcome import OutcomeReleases
from ggzy.tendering.states import EvaluationMethod, ProjectStatus

__all__ = ["BIDS_EXTENSION", "Loaded", "Process", "amount", "ocid_of", "prefix", "stamp"]


class Process(OutcomeReleases):
    """The releases of one section as disclosed at ``now``: from the section's own rows (with
    its project, opening, publicity, award notice and contract) and what its batch ``loaded``
    — see ``ggzy.exchange.ocds_packages.batches`` — so that building makes no query."""

    def __init__(self, section: SectionRow, now: datetime, loaded: Loaded) -> None:
        self.section = section
        self.project = section.project
        self.now = now
        self.loaded = loaded
        self.ocid = ocid_of(section)

    # --- the frame -------------------------------------------------------------------------

    def disclosed(self) -> bool:
        published = self.project.published_at
        return (
            self.project.status == ProjectStatus.PUBLISHED
            and published is not None
            and published <= self.now
        )

    def releases(self) -> list[dict[str, Any]]:
        if not self.disclosed():
            return []
        out = [self.tender_release()]
        out += self.amendment_releases()
        for build in (self.bids_release, self.candidates_release, self.award_release,
                      self.contract_release):  # fmt: skip
            release = build()
            if release is not None:
                out.append(release)
        return out

    def _release(self, suffix: str, tag: str, moment: datetime, **body: Any) -> dict[str, Any]:
        release: dict[str, Any] = {
            "ocid": self.ocid,
            "id": f"{self.ocid}-{suffix}",
            "date": stamp(moment),
            "tag": [tag],
            "initiationType": "tender",
            "language": "zh",
        }
        release.update(body)
        return release

    def _tender_id(self) -> str:
        return self.section.public_id

    # --- tender ----------------------------------------------------------------------------

    def _buyer_side(self) -> list[dict[str, Any]]:
        tenderer, agent = self._tenderer(), self._agent()
        roles = ["buyer"] if agent is not None else ["buyer", "procuringEntity"]
        parties = [party(tenderer.uscc, tenderer.name, roles)]
        if agent is not None:
            parties.append(party(agent.uscc, agent.name, ["procuringEntity"]))
        return parties

    def _tenderer(self) -> Org:
        return self.loaded.orgs[self.project.tenderer_id]

    def _agent(self) -> Org | None:
        """The agent, once the tenderer has confirmed it (委托)."""
        if self.project.agent_id is None or self.project.agency_confirmed_at is None:
            return None
        return self.loaded.orgs[self.project.agent_id]

    def _procuring_entity(self) -> dict[str, str]:
        org = self._agent() or self._tenderer()
        return ref(org.uscc, org.name)

    def _documents(self, docs: Iterable[Doc]) -> list[dict[str, Any]]:
        return [
            {
                "id": d.public_id,
                "documentType": DOCUMENT_TYPE.get(d.kind, "biddingDocuments"),
                "title": d.name,
                "format": d.content_type,
                "datePublished": stamp(d.published_at),
                "language": "zh",
            }
            for d in docs
            if d.published_at is not None and d.published_at <= self.now
        ]

    def _announcement(self) -> dict[str, Any]:
        assert self.project.published_at is not None
        return {
            "id": f"{self.project.public_id}-announcement",
            "documentType": "tenderNotice",
            "title": f"{self.project.name} 招标公告",
            "description": self.project.announcement,
            "datePublished": stamp(self.project.published_at),
            "language": "zh",
        }

    def tender_release(self) -> dict[str, Any]:
        project, section = self.project, self.section
        assert project.published_at is not None
        at_publication = [
            d for d in self.loaded.documents.get(project.pk, [])
            if d.published_at is not None and d.published_at <= project.published_at
        ]  # fmt: skip
        tender: dict[str, Any] = {
            "id": self._tender_id(),
            "title": f"{project.name} {section.name}",
            "status": "active",
            "procuringEntity": self._procuring_entity(),
            "value": money(section.estimated_price),
            "procurementMethod": PROCUREMENT_METHOD.get(project.procedure_id, "open"),
            "procurementMethodDetails": self.loaded.procedures.get(project.procedure_id, ""),
            "mainProcurementCategory": CATEGORY.get(project.subject_type, "works"),
            "awardCriteria": AWARD_CRITERIA.get(section.evaluation_method, "ratedCriteria"),
            "awardCriteriaDetails": source_labels(EvaluationMethod).get(
                section.evaluation_method, ""
            ),
            "submissionMethod": ["electronicSubmission"],
            "eligibilityCriteria": section.qualification_requirements,
            "tenderPeriod": self._tender_period(),
            "documents": [self._announcement(), *self._documents(at_publication)],
        }
        if project.description:
            tender["description"] = project.description
        if section.duration_days:
            tender["contractPeriod"] = {"durationInDays": section.duration_days}
        buyer = self._tenderer()
        return self._release(
            "tender", "tender", project.published_at,
            parties=self._buyer_side(),
            buyer=ref(buyer.uscc, buyer.name),
            planning={"budget": {"description": project.funding_source,
                                 "amount": money(project.budget)}},
            tender=tender,
        )  # fmt: skip

    def _tender_period(self) -> dict[str, Any]:
        section = self.section
        start = section.documents_from or self.project.published_at
        end = section.original_deadline or section.bid_deadline
        period: dict[str, Any] = {}
        if start is not None:
            period["startDate"] = stamp(start)
        if end is not None:
            period["endDate"] = stamp(end)
        return period

    # --- clarifications ----------------------------------------------------------------------

    def _deadlines(self, clarifications: list[Clar]) -> list[datetime | None]:
        """The section's deadline after each clarification, as ``issue_clarification`` moves it
        (R6): a clarification that may affect bids, issued while the section is open and less
        than the minimum before its deadline, moves it to the minimum after the issue."""
        days = self.loaded.clarification_days.get(self.project.ruleset_id, 15)
        minimum = timedelta(days=days)
        deadline = self.section.original_deadline or self.section.bid_deadline
        out: list[datetime | None] = []
        for c in clarifications:
            moved = None
            if deadline is None or not c.affects_bids or c.issued_at >= deadline:
                out.append(moved)  # no deadline, no effect on bids, or issued after it
                continue
            if deadline < c.issued_at + minimum:
                moved = deadline = c.issued_at + minimum
            out.append(moved)
        return out

    def amendment_releases(self) -> list[dict[str, Any]]:
        clarifications = sorted(
            (
                c
                for c in self.loaded.clarifications.get(self.project.pk, [])
                if c.issued_at <= self.now
            ),
            key=lambda c: c.number,
        )
        previous = f"{self.ocid}-tender"
        out = []
        for c, moved in zip(clarifications, self._deadlines(clarifications), strict=True):
            release_id = f"{self.ocid}-amendment-{c.number}"
            tender: dict[str, Any] = {
                "id": self._tender_id(),
                "amendments": [{
                    "id": str(c.number), "date": stamp(c.issued_at),
                    "rationale": c.title, "description": c.body,
                    "amendsReleaseID": previous, "releaseID": release_id,
                }],
            }  # fmt: skip
            if moved is not None:
                tender["tenderPeriod"] = {"endDate": stamp(moved)}
            docs = [d for d in self.loaded.documents.get(self.project.pk, [])
                    if d.id == c.document_id]  # fmt: skip
            if docs:
                tender["documents"] = self._documents(docs)
            out.append(self._release(f"amendment-{c.number}", "tenderAmendment", c.issued_at,
                                     tender=tender))  # fmt: skip
            previous = release_id
        return out
