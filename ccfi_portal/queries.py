"""Model queries whose SQL is built once per process and run again with new parameter values.

On the API's hottest request (a filer's value save, bench/api_bench.py) building the SQL of the queries with joins
and subqueries cost more Python than running them and making their model instances (docs/benchmarks.md). A
``PreparedQuery`` builds its queryset once per database connection alias, with a sentinel value for each parameter,
keeps the SQL Django made of it, and then runs that SQL with the values given, making the instances (with their
``select_related`` objects and annotations) as the queryset would. Only for queries whose shape never changes: a
parameter is a value compared in the SQL, never a list or a choice of filters.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators
from django.db.models.sql.compiler import SQLCompiler
from django.db.transaction import TransactionManagementError

_BIGINT = range(-2**63, 2**63)
_SENTINELS = {int: lambda: -secrets.randbelow(2**61) - 2**61, str: lambda: "sentinel-" + secrets.token_hex(16)}


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    slots: tuple[tuple[str, int], ...]  # (parameter name, its index in params)
    for_update: bool
    rows: _Rows


@dataclass(frozen=True)
class _Rows:
    """How a compiled query's rows become model instances, as Django's ModelIterable makes them, worked out once."""
    compiler: SQLCompiler  # after as_sql(): its columns, converters and connection
    model: type[Model]
    start: int  # the model's own columns
    end: int
    init_list: tuple[str, ...]
    populators: tuple  # the select_related objects
    converters: dict
    annotations: tuple[tuple[str, int], ...]

    @classmethod
    def of(cls, compiler: SQLCompiler, using: str) -> _Rows:
        select, klass_info = compiler.select, compiler.klass_info
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        return cls(compiler, klass_info["model"], start, end,
                   tuple(column[0].target.attname for column in select[start:end]),
                   tuple(get_related_populators(klass_info, select, using)),
                   compiler.get_converters([column[0] for column in select[:compiler.col_count]]),
                   tuple((compiler.annotation_col_map or {}).items()))

    def instances(self, rows: list, using: str) -> list[Model]:
        if self.converters:
            rows = self.compiler.apply_converters(rows, self.converters)
        instances = []
        for row in rows:
            instance = self.model.from_db(using, self.init_list, row[self.start:self.end])
            for populator in self.populators:
                populator.populate(row, instance)
            for name, position in self.annotations:
                setattr(instance, name, row[position])
            instances.append(instance)
        return instances


class PreparedQuery:
    """``build(**parameters)`` returns the queryset; ``parameters`` name each parameter's type (int or str).

    ``PreparedQuery(lambda pk: Book.objects.select_related("author").filter(pk=pk), pk=int).run(pk=7)``
    """

    def __init__(self, build: Callable[..., QuerySet], **parameters: type):
        unknown = [name for name, kind in parameters.items() if kind not in _SENTINELS]
        if unknown:
            raise ImproperlyConfigured(f"PreparedQuery parameters are int or str: {', '.join(unknown)}")
        self._build = build
        self._parameters = parameters
        self._compiled: dict[str, _Compiled] = {}

    def run(self, *, using: str = "default", **values) -> list[Model]:
        connection = connections[using]
        compiled = self._compiled.get(using)
        if compiled is None or compiled.rows.compiler.connection is not connection:  # each thread has its connection
            compiled = self._compile(using)
        if compiled.for_update and connection.get_autocommit():
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        params = list(compiled.params)
        for name, index in compiled.slots:
            value = values[name]
            if self._parameters[name] is int and value not in _BIGINT:
                return []  # as Django's lookups answer a number no column holds (SQLite would overflow)
            params[index] = value
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        return compiled.rows.instances(rows, using)

    def first(self, *, using: str = "default", **values) -> Model | None:
        found = self.run(using=using, **values)
        return found[0] if found else None

    def _compile(self, using: str) -> _Compiled:
        sentinels = {name: _SENTINELS[kind]() for name, kind in self._parameters.items()}
        queryset = self._build(**sentinels)
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        slots = []
        for name, sentinel in sentinels.items():
            found = [index for index, param in enumerate(params) if type(param) is type(sentinel) and param == sentinel]
            if len(found) != 1:
                raise ImproperlyConfigured(f"PreparedQuery: the parameter {name} is in the SQL {len(found)} times, "
                                           "not once (a list, or a value the ORM converts?)")
            slots.append((name, found[0]))
        for_update = bool(queryset.query.select_for_update) and compiler.connection.features.has_select_for_update
        compiled = _Compiled(sql, tuple(params), tuple(slots), for_update, _Rows.of(compiler, using))
        self._compiled[using] = compiled
        return compiled
