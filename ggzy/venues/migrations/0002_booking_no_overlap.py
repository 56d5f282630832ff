"""PostgreSQL only: two live bookings of one venue never overlap, as an exclusion constraint
(btree_gist lets the venue's id take part in the GiST index). A no-op on SQLite, where the
booking service's row lock on the venue is the guard."""

from __future__ import annotations

from typing import Any

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE venues_booking ADD CONSTRAINT booking_no_overlap EXCLUDE USING gist (
    venue_id WITH =, tstzrange(start, "end", '[)') WITH &&
) WHERE (state IN ('held', 'confirmed'));
"""
DROP = "ALTER TABLE venues_booking DROP CONSTRAINT IF EXISTS booking_no_overlap;"


def _on_postgres(sql: str) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("venues", "0001_initial")]

    operations = [migrations.RunPython(_on_postgres(CREATE), _on_postgres(DROP))]
