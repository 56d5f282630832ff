"""USCC (GB 32100) and resident ID (GB 11643) validation, with the vectors of cn-rules.md §6."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from ggzy.core.identifiers import (
    ID_WEIGHTS,
    USCC_ALPHABET,
    USCC_WEIGHTS,
    IdentifierError,
    TradingCode,
    make_resident_id,
    make_uscc,
    validate_resident_id,
    validate_uscc,
)


def test_weights_match_the_standards() -> None:
    assert USCC_WEIGHTS == [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    assert ID_WEIGHTS == [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


@pytest.mark.parametrize(
    "code", ["91110000600037341L", "91350100M000100Y43", " 91110000600037341l "]
)
def test_valid_usccs_pass_and_are_normalised(code: str) -> None:
    assert validate_uscc(code) == code.strip().upper()


@pytest.mark.parametrize(
    ("code", "check"),
    [
        ("91110000600037341M", "checksum"),
        ("9111000060003734", "length"),
        ("91110000600037341LX", "length"),
        ("9111000060003734IL", "alphabet"),  # I is not in the alphabet
        ("911100006000373O1L", "alphabet"),
        ("Z1110000600037341L", "alphabet"),
        ("B1110000600037341L", "registration_authority"),
        ("X1110000600037341L", "registration_authority"),
        ("911A0000600037341L", "region"),
    ],
)
def test_bad_usccs_name_the_failing_check(code: str, check: str) -> None:
    with pytest.raises(IdentifierError) as info:
        validate_uscc(code)
    assert info.value.check == check
    assert info.value.detail == {"identifier": "uscc", "check": check}
    assert info.value.status == 422


@given(
    st.text(alphabet="0123456789", min_size=8, max_size=8),
    st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9),
)
def test_check_character_agrees_with_python_stdnum(prefix: str, org: str) -> None:
    # stdnum requires digits in positions 1–8; within that subset the two must agree exactly.
    code = make_uscc("9" + prefix[1:] + org)
    assert uscc.is_valid(code)
    validate_uscc(code)


@pytest.mark.parametrize("number", ["11010519491231002X", "360426199101010071"])
def test_valid_resident_ids(number: str) -> None:
    assert validate_resident_id(number.lower()) == number


@pytest.mark.parametrize(
    ("number", "check"),
    [
        ("110105194912310021", "checksum"),
        ("11010519491231002", "length"),
        ("1101051949123100XX", "alphabet"),
        ("110105194913310021", "birth_date"),
        ("110105180001010021", "birth_date"),
    ],
)
def test_bad_resident_ids_name_the_failing_check(number: str, check: str) -> None:
    with pytest.raises(IdentifierError) as info:
        validate_resident_id(number)
    assert info.value.check == check


@given(st.dates().filter(lambda d: d.year >= 1900), st.integers(min_value=0, max_value=999))
def test_resident_id_check_digit_agrees_with_python_stdnum(born, seq: int) -> None:  # type: ignore[no-untyped-def]
    number = make_resident_id(f"110105{born:%Y%m%d}{seq:03d}")
    assert ric.calc_check_digit(number) == number[-1]
    assert validate_resident_id(number) == number


def test_trading_code_round_trips() -> None:
    code = TradingCode("320100", 2026, "GC", 42)
    assert str(code) == "3201002026GC000042"
    assert TradingCode.parse("3201002026gc000042") == code


@pytest.mark.parametrize(
    ("value", "check"), [("3201002026XX000042", "category"), ("32010026GC42", "format")]
)
def test_bad_trading_codes(value: str, check: str) -> None:
    with pytest.raises(IdentifierError) as info:
        TradingCode.parse(value)
    assert info.value.check == check
