"""Money is ``Decimal`` yuan with two places; floats are refused."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")


def yuan(value: Decimal | int | str) -> Decimal:
    """Return ``value`` as yuan rounded to the cent. Floats are a bug and are refused."""
    if isinstance(value, float):
        raise TypeError("money must not be a float; pass a Decimal, int or str")
    try:
        amount = Decimal(value)
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"not an amount of money: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not an amount of money: {value!r}")
    try:
        return amount.quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:  # more digits than the decimal context holds
        raise ValueError(f"amount of money out of range: {value!r}") from exc


def format_yuan(amount: Decimal) -> str:
    """``1234567.5`` → ``'¥1,234,567.50'``."""
    return f"¥{yuan(amount):,.2f}"
