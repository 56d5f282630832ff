"""The releases of a section's outcome: the signed opening record (with the bids extension),
the candidates' publicity, the award notice and the published contract. See
``ggzy.exchange.ocds`` for what is disclosed when."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from ggzy.award.states import WithdrawalGround
from ggzy.exchange.ocds_fields import (
    BID_STATUS,
    Cand,
    Loaded,
    ProjectRow,
    PublicityRow,
    SectionRow,
    day_start,
    money,
    party,
    ref,
    source_labels,
    stamp,
)


class OutcomeReleases:
    """Mixed into ``ggzy.exchange.ocds.Process``."""

    section: SectionRow
    project: ProjectRow
    now: datetime
    ocid: str
    loaded: Loaded

    def _release(self, suffix: str, tag: str, moment: datetime, **body: Any) -> dict[str, Any]:
        raise NotImplementedError

    def _tender_id(self) -> str:
        raise NotImplementedError

    # --- the opening record ------------------------------------------------------------------

    def bids_release(self) -> dict[str, Any] | None:
        """From the signed, published opening record only (never from the bid register)."""
        opening = self.section.opening
        if opening is None or opening.record is None or opening.closed_at is None:
            return None
        if opening.closed_at > self.now or opening.status not in ("closed", "failed"):
            return None
        record = opening.record
        closed = stamp(opening.closed_at)
        if record.get("result") == "failed":  # fewer than the minimum: not opened (R15)
            count = int(record.get("bid_count", 0))
            return self._release("bids", "tenderUpdate", opening.closed_at,
                                 tender={"id": self._tender_id(), "status": "unsuccessful",
                                         "statusDetails": record.get("reason", "")},
                                 bids={"statistics": [self._statistic("bids", count, closed)]})  # fmt: skip
        rows = record.get("bids", [])
        parties, seen, details = [], set(), []
        for row in rows:
            if row["uscc"] not in seen:
                seen.add(row["uscc"])
                parties.append(party(row["uscc"], row["bidder"], ["tenderer"]))
            detail: dict[str, Any] = {
                "id": row["bid"],
                "date": stamp(datetime.fromisoformat(row["received_at"])),
                "status": BID_STATUS.get(row.get("decryption", ""), "pending"),
                "tenderers": [ref(row["uscc"], row["bidder"])],
            }
            if row.get("price") is not None:
                detail["value"] = money(Decimal(row["price"]))
            details.append(detail)
        tender = {
            "id": self._tender_id(),
            "numberOfTenderers": len(seen),
            "tenderers": [ref(p["identifier"]["id"], p["name"]) for p in parties],
        }
        statistics = [
            self._statistic("bids", len(rows), closed),
            self._statistic("electronicBids", len(rows), closed),
        ]
        return self._release("bids", "tenderUpdate", opening.closed_at, parties=parties,
                             tender=tender, bids={"statistics": statistics, "details": details})  # fmt: skip

    def _statistic(self, measure: str, value: int, moment: str) -> dict[str, Any]:
        return {"id": f"{self.section.public_id}-{measure}", "measure": measure,
                "value": value, "date": moment}  # fmt: skip

    # --- the result --------------------------------------------------------------------------

    def _publicity(self) -> PublicityRow | None:
        publicity = self.section.award_publicity
        if publicity is None or publicity.starts_at > self.now:
            return None
        return publicity

    @staticmethod
    def award_id(publicity: PublicityRow, rank: int) -> str:
        return f"{publicity.public_id}-{rank}"

    def _candidates(self, publicity: PublicityRow) -> list[Cand]:
        return self.loaded.candidates.get(publicity.pk, [])

    def _candidate_parties(
        self, candidates: list[Cand], winner: int | None
    ) -> list[dict[str, Any]]:
        orgs = self.loaded.orgs
        return [
            party(orgs[c.entity_id].uscc, orgs[c.entity_id].name,
                  ["tenderer", "supplier"] if c.id == winner else ["tenderer"])
            for c in candidates
        ]  # fmt: skip

    def candidates_release(self) -> dict[str, Any] | None:
        """The ranked candidates as pending awards, from the publicity's start; no scores."""
        publicity = self._publicity()
        if publicity is None:
            return None
        candidates = self._candidates(publicity)
        orgs = self.loaded.orgs
        awards = [{
            "id": self.award_id(publicity, c.rank),
            "title": f"第{c.rank}中标候选人",
            "description": f"中标候选人公示 {stamp(publicity.starts_at)} 至 {stamp(publicity.ends_at)}",
            "status": "pending",
            "date": stamp(publicity.starts_at),
            "value": money(c.price),
            "suppliers": [ref(orgs[c.entity_id].uscc, orgs[c.entity_id].name)],
        } for c in candidates]  # fmt: skip
        return self._release("candidates", "award", publicity.starts_at,
                             parties=self._candidate_parties(candidates, None),
                             tender={"id": self._tender_id()}, awards=awards)  # fmt: skip

    def award_release(self) -> dict[str, Any] | None:
        publicity = self._publicity()
        notice = self.section.award_notice
        if publicity is None or notice is None or notice.issued_at > self.now:
            return None
        candidates = self._candidates(publicity)
        winner = notice.winner_id
        awards = []
        for c in candidates:
            row: dict[str, Any] = {"id": self.award_id(publicity, c.rank)}
            if c.id == winner:
                row |= {"status": "active", "date": stamp(notice.issued_at),
                        "value": money(notice.amount)}  # fmt: skip
                if notice.reason:
                    row["description"] = notice.reason
            elif c.withdrawn_at is not None and c.withdrawn_at <= self.now:
                ground = source_labels(WithdrawalGround).get(c.withdrawal_ground, "")
                row |= {"status": "cancelled", "description": ground}
            else:
                row["status"] = "unsuccessful"
            awards.append(row)
        return self._release("award", "award", notice.issued_at,
                             parties=self._candidate_parties(candidates, winner),
                             tender={"id": self._tender_id(), "status": "complete"},
                             awards=awards)  # fmt: skip

    def contract_release(self) -> dict[str, Any] | None:
        notice = self.section.award_notice
        contract = self.section.contract
        publicity = self._publicity()
        if contract is None or notice is None or publicity is None:
            return None
        if contract.published_at is None:
            return None
        if contract.published_at > self.now or notice.issued_at > self.now:
            return None
        winner_rank = next(c.rank for c in self._candidates(publicity) if c.id == notice.winner_id)
        return self._release("contract", "contract", contract.published_at, contracts=[{
            "id": contract.public_id,
            "awardID": self.award_id(publicity, winner_rank),
            "title": f"{self.project.name} {self.section.name} 合同",
            "status": "active",
            "value": money(contract.amount),
            "dateSigned": day_start(contract.signed_on),
        }])  # fmt: skip
