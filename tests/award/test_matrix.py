"""The award rows of the shared API matrices (tests/award/matrix.py), run through the shared
harness of tests/api: every write endpoint × every role either succeeds with exactly its ledger
events or is refused with nothing changed; every operation refuses bad requests in the one
error shape and accepts the plausible one. Until tests/api wires the rows in, this is where
they run."""

# ruff: noqa: F811 (the fixtures imported from tests/api are the parameters below)
from __future__ import annotations

from typing import Any

import pytest

from tests.api import test_errors as te
from tests.api import test_permissions as tp
from tests.api.conftest import crl_server, http, trust_env, world  # noqa: F401 (fixtures)
from tests.api.test_permissions import cast  # noqa: F401 (fixture)
from tests.award import matrix as award_matrix

RULES = award_matrix.permission_rules(
    tp.WriteRule, signed_in=tp.SIGNED_IN, staff=tp.PROJECT_STAFF, tenderer=tp.TENDERER,
    bidder_members=frozenset({tp.ENTITY_ADMIN, tp.ENTITY_OPERATOR}),
)  # fmt: skip
OPERATIONS = [op for op in te.OPERATIONS if op.path.startswith(award_matrix.AWARD + "/")]


def test_every_award_write_endpoint_has_a_row() -> None:
    writes = {k for k in tp._write_operations() if k.split(" ")[1].startswith(award_matrix.AWARD)}
    assert set(RULES) == writes and len(writes) == 9


@pytest.mark.parametrize(
    ("key", "actor"),
    [
        pytest.param(key, actor, id=f"{key} - {actor}")
        for key, rule in RULES.items()
        for actor in [*(a for a in tp.ACTORS if a in rule.allowed), tp.REFUSED]
    ],
)
def test_award_write_permission_matrix(cast: Any, key: str, actor: str, monkeypatch: Any) -> None:
    monkeypatch.setitem(tp.WRITE_RULES, key, RULES[key])
    tp.test_write_permission_matrix(cast, key, actor)


@pytest.fixture
def rows(monkeypatch: Any) -> None:
    for table, extra in ((te.PREPARED, award_matrix.PREPARED),
                         (te.PATH_VALUES, award_matrix.PATH_VALUES),
                         (te.BAD_PATH_VALUES, award_matrix.BAD_PATH_VALUES)):  # fmt: skip
        for key, value in extra.items():
            monkeypatch.setitem(table, key, value)


def test_every_award_operation_has_a_prepared_request() -> None:
    assert {op.key for op in OPERATIONS} == set(award_matrix.PREPARED)


@pytest.mark.parametrize("op", [pytest.param(op, id=op.key) for op in OPERATIONS])
def test_award_bad_requests_are_refused(rows: None, http: Any, world: Any, op: Any) -> None:
    cases = [case for case in te.CASES if te._applies(case, op)]
    te.test_bad_request_is_refused_in_the_error_shape_and_changes_nothing(http, world, op, cases)


@pytest.mark.parametrize("op", [pytest.param(op, id=op.key) for op in OPERATIONS])
def test_award_plausible_requests_are_accepted(rows: None, http: Any, world: Any, op: Any) -> None:
    te.test_the_plausible_request_is_accepted(http, world, op)


@pytest.mark.parametrize(
    ("path", "method"),
    [
        pytest.param(path, method, id=f"{method} {path}")
        for path, item in te.SCHEMA["paths"].items()
        if path.startswith(award_matrix.AWARD + "/")
        for method in te._unsupported_methods(item)
    ],
)
def test_award_wrong_method_is_405(
    rows: None, http: Any, world: Any, path: str, method: str
) -> None:
    te.test_wrong_method_is_405_in_the_error_shape(http, world, path, method)
