"""Substring search over ``SearchableModel.search_index``.

SQLite: an FTS5 table ``<table>_fts`` over the column, kept in step by
triggers. PostgreSQL: a GIN index on ``to_tsvector('simple', search_index)``.
A query becomes, per word, a phrase of its bigrams (a one-character word a
prefix match), and the words are ANDed.
"""

from django.db import connection, models
from django.db.models import BooleanField, F, Func, Subquery, Value
from django.db.models.expressions import RawSQL

from kizuna.core.text import search_words, word_grams


def _sqlite_query(words: list[str]) -> str:
    parts = []
    for word in words:
        if len(word) == 1:
            parts.append(f'"{word}"*')
        else:
            parts.append('"' + " ".join(word_grams(word)) + '"')
    return " AND ".join(parts)


def _postgres_query(words: list[str]) -> str:
    parts = []
    for word in words:
        if len(word) == 1:
            parts.append(f"'{word}':*")
        else:
            parts.append("(" + " <-> ".join(f"'{g}'" for g in word_grams(word)) + ")")
    return " & ".join(parts)


class _Matches(Func):
    """``to_tsvector('simple', search_index) @@ to_tsquery('simple', query)``: the GIN index."""

    template = "to_tsvector('simple', %(expressions)s)"
    arg_joiner = ") @@ to_tsquery('simple', "
    output_field = BooleanField()

    def __init__(self, query: str):
        super().__init__(F("search_index"), Value(query))


class _InArray(Func):
    """``pk = ANY(ARRAY(subquery))``."""

    template = "%(expressions)s))"
    arg_joiner = " = ANY(ARRAY("
    output_field = BooleanField()


def filter_search(queryset: models.QuerySet, query: str | None) -> models.QuerySet:
    words = search_words(query)
    if not words:
        return queryset
    table = queryset.model._meta.db_table
    if connection.vendor == "postgresql":
        # The matching ids that pass the filters so far come first, from the GIN
        # index, as an ARRAY() of their own: PostgreSQL cannot merge that into
        # the outer query, so it never walks an ordering index instead,
        # computing to_tsvector and the access gate for every row it passes
        # until the page is full (seconds for a common surname sorted late). The
        # outer query then reads just those rows by primary key, sorts and
        # joins them.
        matches = queryset.filter(_Matches(_postgres_query(words))).order_by().values("pk")
        return queryset.filter(_InArray(F("pk"), Subquery(matches)))
    return queryset.filter(
        pk__in=RawSQL(
            f"SELECT rowid FROM {table}_fts WHERE {table}_fts MATCH %s", [_sqlite_query(words)]
        )
    )


def index_sql(table: str, vendor: str) -> list[str]:
    """DDL that creates the search index for ``table``."""
    if vendor == "postgresql":
        return [
            f"CREATE INDEX {table}_search_gin ON {table} "
            f"USING gin (to_tsvector('simple', search_index))"
        ]
    if vendor == "sqlite":
        fts = f"{table}_fts"
        return [
            f"CREATE VIRTUAL TABLE {fts} USING fts5(search_index, content='{table}', "
            f"content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
            f"CREATE TRIGGER {table}_fts_ai AFTER INSERT ON {table} BEGIN "
            f"INSERT INTO {fts}(rowid, search_index) VALUES (new.id, new.search_index); END",
            f"CREATE TRIGGER {table}_fts_ad AFTER DELETE ON {table} BEGIN "
            f"INSERT INTO {fts}({fts}, rowid, search_index) "
            f"VALUES ('delete', old.id, old.search_index); END",
            f"CREATE TRIGGER {table}_fts_au AFTER UPDATE OF search_index ON {table} BEGIN "
            f"INSERT INTO {fts}({fts}, rowid, search_index) "
            f"VALUES ('delete', old.id, old.search_index); "
            f"INSERT INTO {fts}(rowid, search_index) VALUES (new.id, new.search_index); END",
        ]
    return []


def drop_index_sql(table: str, vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [f"DROP INDEX IF EXISTS {table}_search_gin"]
    if vendor == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS {table}_fts_ai",
            f"DROP TRIGGER IF EXISTS {table}_fts_ad",
            f"DROP TRIGGER IF EXISTS {table}_fts_au",
            f"DROP TABLE IF EXISTS {table}_fts",
        ]
    return []


def migration_operation(table: str):
    """A migration operation that creates (and on reverse drops) the index."""
    from django.db import migrations

    def forward(apps, schema_editor):
        for sql in index_sql(table, schema_editor.connection.vendor):
            schema_editor.execute(sql)

    def backward(apps, schema_editor):
        for sql in drop_index_sql(table, schema_editor.connection.vendor):
            schema_editor.execute(sql)

    return migrations.RunPython(forward, backward)
