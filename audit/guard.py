"""The database's own guard of the audit trail: triggers that refuse UPDATE and DELETE on its tables (the
events and their links of the hash chain), so that neither the ORM nor SQL typed by hand changes or
removes a record.

PostgreSQL: one row-level trigger; TRUNCATE (``manage.py flush``, the test database's reset) is a table
statement it does not see, and stays for whoever owns the table. SQLite has no TRUNCATE: ``flush`` deletes
row by row, so the audit app's ``flush`` command lifts the guard for its own run (audit/management/commands/
flush.py). A later migration that rewrites the table's rows (an UPDATE on PostgreSQL; SQLite copies the
table, dropping its triggers) calls ``guard_remove`` first; ``guard_install`` runs again after every
migrate (post_migrate), so a copied table gets its guard back."""
from django.db.backends.base.base import BaseDatabaseWrapper

TABLES = ("audit_auditevent", "audit_auditchainlink")
MESSAGE = "audit records are append-only"
OPERATIONS = ("UPDATE", "DELETE")

_POSTGRESQL_INSTALL = [
    f"""CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{MESSAGE}: % on % refused', TG_OP, TG_TABLE_NAME;
        END $$""",
    *(statement for table in TABLES for statement in (
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
        f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()""",
    )),
]
_POSTGRESQL_REMOVE = [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}" for table in TABLES]
_SQLITE_TRIGGERS = {f"{table}_no_{operation.lower()}": (table, operation)
                    for table in TABLES for operation in OPERATIONS}
_SQLITE_INSTALL = [
    f"""CREATE TRIGGER IF NOT EXISTS {name} BEFORE {operation} ON {table}
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}: {operation} refused'); END"""
    for name, (table, operation) in _SQLITE_TRIGGERS.items()
]
_SQLITE_REMOVE = [f"DROP TRIGGER IF EXISTS {name}" for name in _SQLITE_TRIGGERS]


def _run(connection: BaseDatabaseWrapper, statements: dict[str, list[str]]) -> None:
    with connection.cursor() as cursor:
        for statement in statements.get(connection.vendor, []):
            cursor.execute(statement)


def guard_install(connection: BaseDatabaseWrapper) -> None:
    if set(TABLES) <= set(connection.introspection.table_names()):
        _run(connection, {"postgresql": _POSTGRESQL_INSTALL, "sqlite": _SQLITE_INSTALL})


def guard_remove(connection: BaseDatabaseWrapper) -> None:
    _run(connection, {"postgresql": _POSTGRESQL_REMOVE, "sqlite": _SQLITE_REMOVE})


def guard_installed(connection: BaseDatabaseWrapper) -> bool:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname = ANY(%s)",
                           [[f"{table}_append_only" for table in TABLES]])
            return cursor.fetchone()[0] == len(TABLES)
        if connection.vendor == "sqlite":
            names = list(_SQLITE_TRIGGERS)
            placeholders = ", ".join(["%s"] * len(names))  # only placeholders: the names are parameters
            cursor.execute(f"SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN ({placeholders})",  # nosec B608
                           names)
            return cursor.fetchone()[0] == len(names)
        return False
