"""Validated identifier types: USCC (GB 32100), resident ID (GB 11643), platform trading codes.

Each validator raises :class:`IdentifierError` whose ``check`` names the rule that failed
(``length``, ``alphabet``, ``registration_authority``, ``region``, ``checksum``, ``birth_date``…),
so a user is told exactly what is wrong with what they typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from ggzy.core.errors import ValidationFailed

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [
    pow(3, i, 31) for i in range(17)
]  # [1,3,9,27,19,26,16,17,20,29,25,13,8,24,10,30,28]
ID_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]  # [7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2]
ID_CHECK = "10X98765432"
REGISTRATION_AUTHORITIES = "123456789ANY"


class IdentifierError(ValidationFailed):
    code = "invalid_identifier"

    def __init__(self, kind: str, check: str, message: str) -> None:
        super().__init__(message, detail={"identifier": kind, "check": check})
        self.kind = kind
        self.check = check


def _ascii_digits(value: str) -> bool:
    """``str.isdigit`` also accepts '²' and other scripts' digits; identifiers are ASCII."""
    return value.isascii() and value.isdigit()


def _normalise(value: str) -> str:
    return value.strip().upper().replace(" ", "")


def uscc_check_character(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def validate_uscc(value: str) -> str:
    """Return the normalised 统一社会信用代码 or raise :class:`IdentifierError`."""
    code = _normalise(value)
    if len(code) != 18:
        raise IdentifierError(
            "uscc",
            "length",
            f"统一社会信用代码应为18位，实际为{len(code)}位 (USCC must have 18 characters)",
        )
    bad = sorted({c for c in code if c not in USCC_ALPHABET})
    if bad:
        raise IdentifierError(
            "uscc",
            "alphabet",
            f"统一社会信用代码含有不允许的字符 {''.join(bad)}（不使用 I、O、Z、S、V）"
            " (characters outside the GB 32100 alphabet)",
        )
    if code[0] not in REGISTRATION_AUTHORITIES:
        raise IdentifierError(
            "uscc",
            "registration_authority",
            f"第1位登记管理部门代码 {code[0]} 无效 (bad authority code)",
        )
    if not _ascii_digits(code[2:8]):
        raise IdentifierError(
            "uscc",
            "region",
            "第3–8位应为行政区划代码（6位数字） (positions 3–8 must be a region code)",
        )
    expected = uscc_check_character(code[:17])
    if code[17] != expected:
        raise IdentifierError(
            "uscc",
            "checksum",
            f"统一社会信用代码校验位错误：应为 {expected}，实际为 {code[17]} (check character mismatch)",
        )
    return code


def make_uscc(first17: str) -> str:
    """Complete 17 characters with their check character (used by the demo and tests)."""
    return first17 + uscc_check_character(first17)


def validate_resident_id(value: str) -> str:
    """Return the normalised 居民身份证号码 or raise :class:`IdentifierError`."""
    number = _normalise(value)
    if len(number) != 18:
        raise IdentifierError(
            "resident_id",
            "length",
            f"身份证号码应为18位，实际为{len(number)}位 (must have 18 characters)",
        )
    if not _ascii_digits(number[:17]) or not (_ascii_digits(number[17]) or number[17] == "X"):
        raise IdentifierError(
            "resident_id",
            "alphabet",
            "身份证号码前17位应为数字，末位为数字或X (digits and final X only)",
        )
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdentifierError(
            "resident_id", "birth_date", f"出生日期 {number[6:14]} 无效 (invalid birth date)"
        ) from None
    if born.year < 1900:
        raise IdentifierError(
            "resident_id", "birth_date", f"出生日期 {number[6:14]} 无效 (invalid birth date)"
        )
    expected = ID_CHECK[sum(int(c) * w for c, w in zip(number[:17], ID_WEIGHTS, strict=True)) % 11]
    if number[17] != expected:
        raise IdentifierError(
            "resident_id",
            "checksum",
            f"身份证号码校验位错误：应为 {expected}，实际为 {number[17]} (check digit mismatch)",
        )
    return number


def make_resident_id(first17: str) -> str:
    return (
        first17 + ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]
    )


REGION_RE = re.compile(r"^[0-9]{6}$")


def validate_region_code(value: str) -> str:
    """A GB/T 2260 administrative division code: six digits, province part not 00."""
    code = value.strip()
    if not REGION_RE.match(code) or code[:2] == "00":
        raise IdentifierError(
            "region", "format", f"行政区划代码 {value!r} 应为6位数字 (six digits)"
        )
    return code


# Trading categories carried by the trading code (交易标识码). Two letters, stable forever.
TRADING_CATEGORY_CODES = {
    "GC": "工程建设",
    "ZC": "政府采购",
    "TD": "土地使用权",
    "KY": "矿业权",
    "CQ": "国有产权",
    "HJ": "环境权益",
    "YP": "药品和医用耗材",
    "QT": "其他",
}
TRADING_CODE_RE = re.compile(
    r"^(?P<region>[0-9]{6})(?P<year>[0-9]{4})(?P<category>[A-Z]{2})(?P<seq>[0-9]{6})$"
)


@dataclass(frozen=True)
class TradingCode:
    """交易标识码: region (6) + year (4) + category (2) + sequence (6) = 18 characters."""

    region: str
    year: int
    category: str
    sequence: int

    def __str__(self) -> str:
        return f"{self.region}{self.year:04d}{self.category}{self.sequence:06d}"

    @classmethod
    def parse(cls, value: str) -> TradingCode:
        m = TRADING_CODE_RE.match(value.strip().upper())
        if not m:
            raise IdentifierError(
                "trading_code", "format", "交易标识码格式应为 区划6位+年份4位+类别2位+序号6位"
            )
        if m["category"] not in TRADING_CATEGORY_CODES:
            raise IdentifierError("trading_code", "category", f"未知的交易类别 {m['category']}")
        return cls(validate_region_code(m["region"]), int(m["year"]), m["category"], int(m["seq"]))
