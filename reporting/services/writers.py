"""The raw-SQL writers of a values save: values, change records and flags in a few statements each.

A form save writes a handful of rows; an import of 300 cities writes ten thousand values, where the
ORM's bulk_update()/bulk_create() cost seconds in Python alone. ValueBatch collects many returns'
writes and stores them together.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection, models
from django.utils import timezone

from reporting.models import ExplanationDecision, IndicatorReturn, ReturnValue, ValueChange, ValueFlag

VALUES_IN_ONE_STATEMENT = 200  # a return has about forty values: one save of all of them, or a few returns


def values_write(rows: list[ReturnValue]) -> None:
    """Store the four entered fields of many values in one statement.

    Django's bulk_update() builds a CASE expression per row and field, which costs about a second
    per thousand values in Python alone; an import of 300 cities writes ten thousand.
    """
    if not rows:
        return
    table = connection.ops.quote_name(ReturnValue._meta.db_table)
    value_field = ReturnValue._meta.get_field("value")
    params = [(row.pk, value_field.get_db_prep_save(row.value, connection), row.observation_status, row.source_note,
               row.explanation) for row in rows]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(params) <= VALUES_IN_ONE_STATEMENT:
            # A form or API save: one UPDATE from a VALUES list (the model's own table and column names in the
            # statement; the values are bound). A scratch table costs PostgreSQL more than the update itself.
            rows_sql = ", ".join(["(%s::bigint, %s::numeric, %s::text, %s::text, %s::text)"] * len(params))
            cursor.execute(f"UPDATE {table} AS t SET value = v.value, observation_status = v.observation_status, "  # nosec B608
                           "source_note = v.source_note, explanation = v.explanation "
                           f"FROM (VALUES {rows_sql}) AS v (id, value, observation_status, source_note, explanation) "
                           "WHERE t.id = v.id", [item for row in params for item in row])
        elif connection.vendor == "postgresql":
            # An import: COPY into a scratch table, then one UPDATE (executemany costs a round trip, and
            # client-side quoting, per row).
            cursor.execute("CREATE TEMPORARY TABLE reporting_value_write (id bigint, value numeric, "
                           "observation_status text, source_note text, explanation text) ON COMMIT DROP")
            with cursor.cursor.copy("COPY reporting_value_write FROM STDIN") as copy:
                for row in params:
                    copy.write_row(row)
            cursor.execute(f"UPDATE {table} AS t SET value = v.value, observation_status = v.observation_status, "  # nosec B608
                           "source_note = v.source_note, explanation = v.explanation "
                           "FROM reporting_value_write AS v WHERE t.id = v.id")
            cursor.execute("DROP TABLE reporting_value_write")
        else:
            cursor.executemany(f"UPDATE {table} SET value = %s, observation_status = %s, "  # nosec B608
                               "source_note = %s, explanation = %s WHERE id = %s",
                               [(*row[1:], row[0]) for row in params])


# The order of the values in each row that changes_write() is given.
CHANGE_COLUMNS = ("indicator_return", "indicator", "field", "old", "new", "actor", "changed_at", "channel",
                  "edit_version")


@dataclass
class ValueBatch:
    """Writes collected over many returns and stored together (an import of hundreds of cities)."""

    values: list[ReturnValue] = field(default_factory=list)
    changes: list[tuple] = field(default_factory=list)
    bumped: list[int] = field(default_factory=list)  # returns whose edit version goes up by one
    stale_flags: list[int] = field(default_factory=list)
    new_flags: list[ValueFlag] = field(default_factory=list)
    explained: list[int] = field(default_factory=list)

    def flush(self) -> None:
        values_write(self.values)
        changes_write(self.changes)
        if self.bumped:
            IndicatorReturn.objects.filter(pk__in=self.bumped).update(edit_version=models.F("edit_version") + 1,
                                                                      updated_at=timezone.now())
        flags_write(stale=self.stale_flags, new=self.new_flags, explained=self.explained)
        self.__init__()


def changes_write(rows: list[tuple]) -> None:
    """Append ValueChange records in few statements (bulk_create prepares every field of every
    object in Python, which dominates an import of ten thousand values)."""
    if not rows:
        return
    names = CHANGE_COLUMNS
    columns = ", ".join(connection.ops.quote_name(ValueChange._meta.get_field(name).column) for name in names)
    table = connection.ops.quote_name(ValueChange._meta.db_table)
    placeholders = f"({', '.join(['%s'] * len(names))})"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(rows) <= VALUES_IN_ONE_STATEMENT:
            # A form or API save: one INSERT (a COPY costs two round trips). The model's own table and column
            # names; the values are bound.
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {', '.join([placeholders] * len(rows))}",  # nosec B608
                           [item for row in rows for item in row])
        elif connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES {placeholders}", rows)  # nosec B608


def flags_write(*, stale: list[int], new: list[ValueFlag], explained: Iterable[int]) -> None:
    """Drop the flags that no longer hold, add the new ones, and reopen the decisions on re-explained values."""
    if stale:
        ValueFlag.objects.filter(pk__in=stale).delete()
    if new:
        ValueFlag.objects.bulk_create(new, batch_size=1000)
    if explained:
        # A new explanation goes back to the reviewer.
        ValueFlag.objects.filter(value_id__in=list(explained)).exclude(decision=ExplanationDecision.PENDING).update(
            decision=ExplanationDecision.PENDING, decided_by=None, decided_at=None)
