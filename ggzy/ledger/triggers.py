"""Database triggers that make ledger tables append-only on SQLite and PostgreSQL.

The ORM refuses updates and deletes already (``AppendOnlyModel``); the triggers stop everything
else that reaches the database — a stray ``UPDATE`` from a shell, a buggy migration. A database
owner can always drop a trigger; that is why the chain, the Merkle tree and the signed tree heads
exist: ``ggzy ledger verify`` catches what the triggers cannot prevent.

The ``unlocked`` escape hatch exists for test-database teardown and for tamper drills; it is a
per-connection switch (a PostgreSQL session setting, or a flag read through an SQLite function
that only this process registers, so the sqlite3 shell cannot unlock anything).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection as default_connection
from django.db.backends.signals import connection_created

PROTECTED_TABLES = ("ledger_event", "ledger_merklenode", "ledger_treehead")

_sqlite_unlocked = False


def _sqlite_flag() -> int:
    return 1 if _sqlite_unlocked else 0


def _register(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "ggzy_ledger_unlocked", 0, _sqlite_flag, deterministic=False
        )


def install_connection_hooks() -> None:
    connection_created.connect(_register, dispatch_uid="ggzy_ledger_triggers")


def sqlite_statements() -> list[str]:
    out = []
    for table in PROTECTED_TABLES:
        for op in ("UPDATE", "DELETE"):
            out.append(
                f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
                f"WHEN NOT ggzy_ledger_unlocked() "
                f"BEGIN SELECT RAISE(ABORT, 'ledger is append-only: {op} on {table} refused'); END"
            )
    return out


POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION ggzy_ledger_append_only() RETURNS trigger AS $$
BEGIN
  IF coalesce(current_setting('ggzy.ledger_unlock', true), '') = 'on' THEN
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    IF TG_OP = 'UPDATE' THEN RETURN NEW; END IF;
    RETURN NULL;
  END IF;
  RAISE EXCEPTION 'ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql
"""


def postgres_statements() -> list[str]:
    out = [POSTGRES_FUNCTION]
    for table in PROTECTED_TABLES:
        out.append(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        out.append(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION ggzy_ledger_append_only()"
        )
        out.append(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        out.append(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION ggzy_ledger_append_only()"
        )
    return out


def install(schema_editor: Any) -> None:
    conn = schema_editor.connection
    if conn.vendor == "sqlite":
        statements = sqlite_statements()
    elif conn.vendor == "postgresql":
        statements = postgres_statements()
    else:  # pragma: no cover - other vendors are not supported
        return
    for sql in statements:
        schema_editor.execute(sql, None)


@contextmanager
def unlocked(connection: Any = None) -> Iterator[None]:
    """Let this connection change ledger rows for the duration (teardown, tamper drills only)."""
    global _sqlite_unlocked
    conn = connection or default_connection
    if conn.vendor == "postgresql":
        with conn.cursor() as cur:
            cur.execute("SELECT set_config('ggzy.ledger_unlock', 'on', false)")
        try:
            yield
        finally:
            with conn.cursor() as cur:
                cur.execute("SELECT set_config('ggzy.ledger_unlock', 'off', false)")
    else:
        _sqlite_unlocked = True
        try:
            yield
        finally:
            _sqlite_unlocked = False
