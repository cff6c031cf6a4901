"""Writing many rows of one table as tuples, without model instances.

``bulk_create`` builds a model instance per row and prepares every field of
every row (``get_db_prep_save``), which costs more than the insert itself.
An import writes rows whose columns are mostly the same (the defaults, the
time of the run), so a ``TableWriter`` prepares those once and takes only
the columns that vary per row.

Primary keys are taken before the insert, so that the rows that refer to
the new ones (e-mails, phones, employment, the undo log) can be built at
once: on SQLite from the table's ``sqlite_sequence`` inside the write
transaction (IMMEDIATE: no other writer can take the same ids), on
PostgreSQL from the table's sequence. SQLite writes with ``executemany``,
PostgreSQL with ``COPY``. Triggers (SQLite's FTS5 search index) and
constraints apply as on any insert.
"""

import datetime
import json
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """``count`` new primary keys of ``model``'s table; call inside the write transaction."""
    if count <= 0:
        return []
    table = model._meta.db_table
    column = str(model._meta.pk.column)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [connection.ops.quote_name(table), column, count],
            )
            return [row[0] for row in cursor.fetchall()]
        if connection.vendor == "sqlite":
            # AUTOINCREMENT: never reuse an id, not even of a deleted row.
            cursor.execute(
                "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "
                f"coalesce((SELECT max({connection.ops.quote_name(column)}) FROM "
                f"{connection.ops.quote_name(table)}), 0))",
                [table],
            )
            start = int(cursor.fetchone()[0]) + 1
            return list(range(start, start + count))
    raise NotImplementedError(connection.vendor)


class TableWriter:
    """Inserts rows of ``model``: ``columns`` vary per row, every other field
    gets its default (``auto_now``/``auto_now_add`` fields ``now``)."""

    def __init__(self, model: type[models.Model], columns: Sequence[str], now: datetime.datetime):
        meta = model._meta
        self.model = model
        self.table = meta.db_table
        by_attname = {f.attname: f for f in meta.concrete_fields}
        self.fields = [by_attname[name] for name in columns]
        constants: list[tuple[models.Field, Any]] = []
        for f in meta.concrete_fields:
            if f.attname in columns or (f.primary_key and f.attname not in columns):
                continue
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value = now
            else:
                value = f.get_default()
            constants.append((f, self._prepare(f, value)))
        self.constants = tuple(value for _f, value in constants)
        self.names = [str(f.column) for f in self.fields] + [str(f.column) for f, _v in constants]
        # Columns that need conversion per row (dates, JSON); text and numbers
        # go in as they are.
        self.convert = [
            i
            for i, f in enumerate(self.fields)
            if isinstance(f, models.DateField | models.JSONField | models.DecimalField)
        ]

    @staticmethod
    def _prepare(field: models.Field, value: Any) -> Any:
        if isinstance(field, models.JSONField):
            return None if value is None else json.dumps(value, cls=field.encoder)
        return field.get_db_prep_save(value, connection)

    def write(self, rows: Iterable[Sequence[Any]]) -> int:
        """Insert ``rows`` (values in the order of ``columns``); returns how many."""
        constants = self.constants
        if self.convert:
            fields, prepare = self.fields, self._prepare
            convert = self.convert

            def full(row: Sequence[Any]) -> tuple:
                values = list(row)
                for i in convert:
                    values[i] = prepare(fields[i], values[i])
                return (*values, *constants)

            tuples = [full(row) for row in rows]
        else:
            tuples = [(*row, *constants) for row in rows]
        if not tuples:
            return 0
        write_tuples(self.table, self.names, tuples)
        return len(tuples)


def write_tuples(table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            raw = cursor.cursor  # psycopg's own cursor, for COPY
            with raw.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
                write_row = copy.write_row
                for row in rows:
                    write_row(row)
        return
    # SQLite: many rows per INSERT statement. executemany runs one statement
    # per row, and FTS5 flushes its pending terms at the end of every
    # statement that its trigger wrote to: one index segment per row, five
    # times the cost of the insert itself (measured).
    connection.ensure_connection()
    raw = connection.connection
    limit = raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    per = max(1, min(limit // len(columns), 1000))
    one = "(" + ", ".join(["?"] * len(columns)) + ")"
    head = f"INSERT INTO {quote(table)} ({names}) VALUES "
    full_sql = head + ", ".join([one] * per)
    for start in range(0, len(rows), per):
        part = rows[start : start + per]
        sql = full_sql if len(part) == per else head + ", ".join([one] * len(part))
        raw.execute(sql, [value for row in part for value in row])


def update_rows(model: type[models.Model], fields: Sequence[str], rows: list[list]) -> None:
    """``UPDATE`` one row per item of ``rows``: the values of ``fields``, then the pk.

    SQLite: one ``UPDATE … FROM (VALUES …)`` per few hundred rows, for the
    same reason as the inserts (the FTS5 trigger flushes per statement);
    PostgreSQL: ``executemany`` (psycopg pipelines it).
    """
    if not rows:
        return
    meta = model._meta
    quote = connection.ops.quote_name
    columns = [str(meta.get_field(name).column) for name in fields]  # type: ignore[union-attr]
    table, pk = quote(meta.db_table), quote(str(meta.pk.column))
    if connection.vendor != "sqlite":
        sets = ", ".join(f"{quote(c)} = %s" for c in columns)
        with connection.cursor() as cursor:
            cursor.executemany(f"UPDATE {table} SET {sets} WHERE {pk} = %s", rows)
        return
    connection.ensure_connection()
    raw = connection.connection
    width = len(columns) + 1
    limit = raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    per = max(1, min(limit // width, 500))
    # VALUES names its columns column1, column2, …; the pk comes last.
    sets = ", ".join(f"{quote(c)} = v.column{i + 1}" for i, c in enumerate(columns))
    one = "(" + ", ".join(["?"] * width) + ")"

    def sql(count: int) -> str:
        return (
            f"UPDATE {table} SET {sets} FROM (VALUES {', '.join([one] * count)}) AS v "
            f"WHERE {table}.{pk} = v.column{width}"
        )

    full_sql = sql(per)
    for start in range(0, len(rows), per):
        part = rows[start : start + per]
        raw.execute(
            full_sql if len(part) == per else sql(len(part)),
            [value for row in part for value in row],
        )
