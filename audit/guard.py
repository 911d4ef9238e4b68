"""The database's own guard of the audit trail: triggers that refuse UPDATE and DELETE on its table, so
that neither the ORM nor SQL typed by hand changes or removes a record.

PostgreSQL: one row-level trigger; TRUNCATE (``manage.py flush``, the test database's reset) is a table
statement it does not see, and stays for whoever owns the table. SQLite has no TRUNCATE: ``flush`` deletes
row by row, so the audit app's ``flush`` command lifts the guard for its own run (audit/management/commands/
flush.py). A later migration that rewrites the table's rows (an UPDATE on PostgreSQL; SQLite copies the
table, dropping its triggers) calls ``guard_remove`` first; ``guard_install`` runs again after every
migrate (post_migrate), so a copied table gets its guard back."""
from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "audit_auditevent"
MESSAGE = "audit records are append-only"

_POSTGRESQL_INSTALL = [
    f"""CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{MESSAGE}: % on % refused', TG_OP, TG_TABLE_NAME;
        END $$""",
    f"DROP TRIGGER IF EXISTS audit_append_only ON {TABLE}",
    f"""CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()""",
]
_POSTGRESQL_REMOVE = [f"DROP TRIGGER IF EXISTS audit_append_only ON {TABLE}"]
_SQLITE_INSTALL = [
    f"""CREATE TRIGGER IF NOT EXISTS audit_no_{operation.lower()} BEFORE {operation} ON {TABLE}
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}: {operation} refused'); END"""
    for operation in ("UPDATE", "DELETE")
]
_SQLITE_REMOVE = [f"DROP TRIGGER IF EXISTS audit_no_{operation}" for operation in ("update", "delete")]


def _run(connection: BaseDatabaseWrapper, statements: dict[str, list[str]]) -> None:
    with connection.cursor() as cursor:
        for statement in statements.get(connection.vendor, []):
            cursor.execute(statement)


def guard_install(connection: BaseDatabaseWrapper) -> None:
    if TABLE in connection.introspection.table_names():
        _run(connection, {"postgresql": _POSTGRESQL_INSTALL, "sqlite": _SQLITE_INSTALL})


def guard_remove(connection: BaseDatabaseWrapper) -> None:
    _run(connection, {"postgresql": _POSTGRESQL_REMOVE, "sqlite": _SQLITE_REMOVE})


def guard_installed(connection: BaseDatabaseWrapper) -> bool:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname = 'audit_append_only' "
                           "AND tgrelid = %s::regclass", [TABLE])
        elif connection.vendor == "sqlite":
            cursor.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [TABLE])
        else:
            return False
        return cursor.fetchone()[0] > 0
