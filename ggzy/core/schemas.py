"""Shared API schema base: unknown fields are refused, strings are trimmed."""

from __future__ import annotations

from ninja import Schema
from pydantic import ConfigDict


class StrictSchema(Schema):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ErrorOut(Schema):
    code: str
    message: str
    detail: object | None = None


class OkOut(Schema):
    ok: bool = True


# Empty, or one @ with a dotted domain: enough to catch typos without refusing real addresses.
EMAIL_PATTERN = r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$"
