"""The committed API contract (docs/openapi.json) is the generated one: CI diffs it here."""

from __future__ import annotations

import json
from pathlib import Path

from ggzy.api import api


def test_docs_openapi_json_is_up_to_date() -> None:
    committed = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
    generated = (
        json.dumps(api.get_openapi_schema(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    )
    assert committed.read_text(encoding="utf-8") == generated, (
        "run `make openapi` and commit docs/openapi.json"
    )
