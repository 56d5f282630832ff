"""The national exchange's rows for the API-wide error harness (tests/api/test_errors.py): a
batch for the error world's ``{batch_id}`` and the values that name none. Merged there with::

    PATH_VALUES |= national_matrix.PATH_VALUES; BAD_PATH_VALUES |= national_matrix.BAD_PATH_VALUES

The batch is built through the service, from the world's registered entities, with the platform
codes set in a field file of its own (the default has none)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from django.test import override_settings

from ggzy.exchange import national
from ggzy.exchange.models import Batch

PLATFORM = {"PLATFORM_CODE": "913201000000000PLT", "PUB_SERVICE_PLAT_CODE": "913201000000000PUB"}


def batch_for_world(world: Any) -> str:
    """The id of a legal-person batch (built once per world)."""
    if "national_batch" not in world.prepared:
        existing = Batch.objects.order_by("pk").first()
        if existing is None:
            path = Path(tempfile.mkdtemp()) / "fields.json"
            path.write_text(
                json.dumps({"platform": PLATFORM, "share_contacts": True}), encoding="utf-8"
            )
            with override_settings(GGZY_EXCHANGE_FIELDS=str(path)):
                built = national.build_batch(actor=national.CLI, dataset="100").batch
            assert built is not None
            existing = built
        world.prepared["national_batch"] = existing.batch_id
    return str(world.prepared["national_batch"])


PATH_VALUES: dict[str, Any] = {"batch_id": batch_for_world}
BAD_PATH_VALUES: dict[str, list[tuple[str, int, str]]] = {
    "batch_id": [("NX100-00000001-0000000000000000", 404, "batch_not_found"),
                 ("no-such-thing", 404, "batch_not_found")],
}  # fmt: skip
