"""Django's flush, which on SQLite lifts the audit trail's guard for its own run: SQLite has no TRUNCATE
and flush deletes row by row, which the guard refuses. On PostgreSQL flush TRUNCATEs, which the row
trigger does not see, and this changes nothing. Emptying the whole database (the test runner's reset of
transactional tests, a developer's fresh start) is the one delete of the trail there is."""
from django.core.management.commands import flush
from django.db import connections

from audit.guard import guard_install, guard_remove


class Command(flush.Command):
    def handle(self, **options):
        connection = connections[options["database"]]
        if connection.vendor != "sqlite":
            return super().handle(**options)
        guard_remove(connection)
        try:
            return super().handle(**options)
        finally:
            guard_install(connection)
