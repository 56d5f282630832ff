"""Two callers at once (PostgreSQL, two connections): one publicity, one award notice, one
contract per section, and progress payments that together never exceed the contract — the
loser of each race gets its refusal, never an IntegrityError."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection

from ggzy.award import services, services_contract
from ggzy.award.models import AwardNotice, Contract, Obligation, Publicity
from ggzy.core.errors import DomainError
from tests.award import world as w
from tests.award.world import cn, days
from tests.evaluation.test_app_concurrency import _race

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs two server connections"),
]


@pytest.fixture
def world(region, frozen_clock):  # type: ignore[no-untyped-def]
    return w.signed_world(frozen_clock)


def _one_of_two(results: list[object], model: type, code: str) -> None:
    made = [r for r in results if isinstance(r, model)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(made) == 1 and len(refused) == 1, results
    assert refused[0].code == code


def test_one_publicity_one_award_one_contract(world) -> None:  # type: ignore[no-untyped-def]
    def publish() -> Publicity:
        return services.publish_candidates(actor=world.tenderer, section=world.section,
                                           ends_at=w.SIGNED + days(3))  # fmt: skip

    _one_of_two(_race([publish, publish]), Publicity, "candidates_published")
    world.at(cn(2026, 12, 18, 10))

    def award() -> AwardNotice:
        return services.issue_award(actor=world.tenderer, section=world.section)

    _one_of_two(_race([award, award]), AwardNotice, "award_exists")

    def sign() -> Contract:
        return services_contract.record_contract(
            actor=world.tenderer, section=world.section, amount="9000000.00",
            signed_on=date(2026, 12, 18), security_amount="0", security_form="none",
        )  # fmt: skip

    _one_of_two(_race([sign, sign]), Contract, "contract_exists")
    contract = Contract.objects.get()

    def pay() -> Obligation:
        return services_contract.add_obligation(
            actor=world.tenderer, contract=contract, kind="progress_payment", name="进度款",
            amount="5000000.00", due_on=date(2027, 3, 31),
        )  # fmt: skip

    _one_of_two(_race([pay, pay]), Obligation, "payments_exceed_contract")
