"""Foundation benchmark: seed a large data set, then time the main pages.

    .venv/bin/python benchmarks/foundation.py [--database-url URL]
        [--companies 100000 --contacts 500000 --activities 1000000] [--requests 200]

Without --database-url the data goes into SQLite in a fresh temporary
KIZUNA_DATA_DIR; with a PostgreSQL URL the script creates a fresh database
(``kizuna_bench`` unless the URL names one), and drops it at the end.

(a) Seeding: a forked process runs the demo generator (the same rows, in
the same order, as running it in this process) and sends the rows as tuples
while this process writes them: ``executemany`` on SQLite (journal off,
synchronous off and a large cache during the load of this throwaway
database; the FTS triggers dropped and the search index written batch by
batch; the secondary indexes of the activity tables dropped and created
after the load), ``COPY`` on PostgreSQL (secondary indexes, GIN indexes and
foreign keys dropped, and each step's put back while the next step is still
being generated). Indexing is part of the measured time. As a baseline the
same run writes a 50,000-row slice of activities with ``bulk_create``.
``KIZUNA_BENCH_TRACE=1`` prints when each step is generated and indexed.

(b) Each request type is timed in-process with ``django.test.Client`` (server
time: middleware, view, queries, template), after a few warm-up requests, as
a rep who sees her team's data and as an org admin. A URL that does not
resolve yet is reported as "not available".

The results go to stdout and to benchmarks/results/foundation-<vendor>.md.

To iterate on a query, seed once with ``--keep`` and then measure the kept
database again with ``--reuse DATA_DIR`` (PostgreSQL: ``--reuse pg`` and the
same URL), optionally ``--only "API"`` to time one kind of request.
"""

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

RESULTS_DIR = Path(__file__).resolve().parent / "results"
TARGET_P95_MS = 100.0


# Setup -----------------------------------------------------------------------------


def configure(database_url: str | None, reuse_dir: str | None = None) -> dict:
    """Point Kizuna at a fresh database and set Django up; returns what to clean up.

    With ``reuse_dir`` (SQLite: a kept KIZUNA_DATA_DIR; PostgreSQL: any value)
    the kept database is used as it is.
    """
    if reuse_dir and not database_url:
        data_dir = reuse_dir
    else:
        data_dir = tempfile.mkdtemp(prefix="kizuna-bench-")
    os.environ["KIZUNA_DATA_DIR"] = data_dir
    os.environ.setdefault("KIZUNA_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
    os.environ["DJANGO_SETTINGS_MODULE"] = "kizuna.settings"
    # A temporary data dir next to a reused PostgreSQL database holds nothing worth keeping.
    cleanup: dict = {"data_dir": data_dir, "scratch_dir": bool(reuse_dir and database_url)}
    if database_url:
        parts = urlsplit(database_url)
        name = parts.path.strip("/") or "kizuna_bench"
        bench_url = urlunsplit(parts._replace(path=f"/{name}"))
        admin_url = urlunsplit(parts._replace(path="/postgres"))
        import psycopg

        if not reuse_dir:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
                conn.execute(f'CREATE DATABASE "{name}"')
        os.environ["KIZUNA_DATABASE_URL"] = bench_url
        cleanup |= {"admin_url": admin_url, "database": name}
    else:
        os.environ.pop("KIZUNA_DATABASE_URL", None)
    import django

    django.setup()
    return cleanup


def teardown(cleanup: dict, keep: bool = False) -> None:
    from django.db import connections

    connections.close_all()
    if cleanup.get("database") and not keep:
        import psycopg

        with psycopg.connect(cleanup["admin_url"], autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{cleanup["database"]}" WITH (FORCE)')
    if not keep or cleanup.get("scratch_dir"):
        shutil.rmtree(cleanup["data_dir"], ignore_errors=True)


# Fast writers -----------------------------------------------------------------------

_plans: dict = {}
_datetime_texts: dict = {}


def to_tuples(model, rows, naive_datetimes: bool) -> tuple[list[str], list[tuple]]:
    """Generator rows (dicts) as column names and value tuples, ready to write."""
    from django.db import models

    plan = _plans.get(model)
    if plan is None:
        fields = [f for f in model._meta.concrete_fields if f.attname in rows[0]]
        datetimes = [f.attname for f in fields if isinstance(f, models.DateTimeField)]
        jsons = [f.attname for f in fields if isinstance(f, models.JSONField)]
        columns = [f.column for f in fields]
        getter = itemgetter(*[f.attname for f in fields])
        plan = _plans[model] = (columns, datetimes, jsons, getter)
    columns, datetimes, jsons, getter = plan
    dumps = json.dumps
    texts = _datetime_texts
    if len(texts) > 1_000_000:
        texts.clear()
    for row in rows:
        for name in jsons:
            value = row[name]
            row[name] = dumps(value) if value else "{}"
        if naive_datetimes:
            # Django stores UTC on SQLite as "YYYY-MM-DD HH:MM:SS[.ffffff]":
            # the generator's times are UTC, so that is the ISO text without
            # the "+00:00". Times to the minute repeat: their texts are memoised.
            for name in datetimes:
                value = row[name]
                if value is None:
                    continue
                if value.second:
                    # Not to the minute: most likely unique.
                    row[name] = value.isoformat(" ")[:-6]
                    continue
                text = texts.get(value)
                if text is None:
                    text = texts[value] = value.isoformat(" ")[:-6]
                row[name] = text
    return columns, list(map(getter, rows))


def publish(text: str, args, cleanup: dict, *, name: str) -> None:
    """Print the report and write it to --output, or to results/<name>-<vendor>.md
    (not for a --reuse run); say what --keep kept."""
    from django.db import connection

    print()
    print(text)
    output = Path(args.output) if getattr(args, "output", None) else None
    if output is None and not args.reuse:
        RESULTS_DIR.mkdir(exist_ok=True)
        output = RESULTS_DIR / f"{name}-{connection.vendor}.md"
    if output is not None:
        output.write_text(text + "\n")
        print(f"Written to {output}")
    if args.keep:
        kept = "" if cleanup["scratch_dir"] else f"KIZUNA_DATA_DIR={cleanup['data_dir']} "
        print(f"Kept: {kept}{cleanup.get('database', '')}")


def _trace(text: str) -> None:
    if os.environ.get("KIZUNA_BENCH_TRACE"):
        print(f"  {time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)


class _Writer:
    """Writes generator rows as tuples, bypassing model instances."""

    def __init__(self, connection):
        self.connection = connection
        self.raw = connection.connection
        self.saved: dict[str, list] = {}
        # Tables whose search index was written along with the rows.
        self.indexed: set[str] = set()
        # Set when the load runs with foreign keys off (SQLite): ``restore``
        # then checks each table's references in one pass.
        self.check_foreign_keys = False

    def index_rows(self, table: str, columns: list[str], rows: list[tuple]) -> None:
        """Add just-written rows to the search index (SQLite), instead of a rebuild."""


class SqliteWriter(_Writer):
    def drop_indexes(self, tables: list[str], keep: list[str] = ()) -> None:
        """Drop secondary indexes and triggers; ``restore`` puts them back.

        The tables in ``keep`` keep their indexes (and lose only the triggers).
        """
        for table in tables:
            self.saved[table] = [
                (kind, name, sql)
                for kind, name, sql in self.raw.execute(
                    "SELECT type, name, sql FROM sqlite_master "
                    "WHERE tbl_name = ? AND type IN ('index', 'trigger') AND sql IS NOT NULL",
                    [table],
                ).fetchall()
                if kind == "trigger" or table not in keep
            ]
            for kind, name, _sql in self.saved[table]:
                self.raw.execute(f'DROP {kind.upper()} "{name}"')

    # FTS5's default: merge segments once this many are on one level.
    AUTOMERGE = 4

    def index_rows(self, table: str, columns: list[str], rows: list[tuple]) -> None:
        if table not in self.indexed:
            self.indexed.add(table)
            # No incremental merges of the index's segments during the load
            # (FTS5 still merges when a level gets too full, "crisismerge");
            # ``restore`` puts the setting back.
            self.raw.execute(f"INSERT INTO {table}_fts({table}_fts, rank) VALUES('automerge', 0)")
        pk = columns.index("id")
        self.raw.execute(
            f"INSERT INTO {table}_fts(rowid, search_index) "
            f'SELECT id, search_index FROM "{table}" WHERE id BETWEEN ? AND ?',
            [rows[0][pk], rows[-1][pk]],
        )

    def check_references(self, table: str) -> None:
        """Fail if a row of ``table`` refers to a row that does not exist.

        When the referred table's ids have no gaps (count = max − min + 1), a
        reference exists exactly when it lies between that min and max, and
        the referring column's min and max come from the end of an index: a
        proof in a few lookups instead of one lookup per row. Otherwise
        SQLite checks row by row.
        """
        for _id, _seq, parent, column, target, *_rest in self.raw.execute(
            f'PRAGMA foreign_key_list("{table}")'
        ).fetchall():
            key = target or "id"
            lo, hi, n = self.raw.execute(
                f'SELECT MIN("{key}"), MAX("{key}"), COUNT(*) FROM "{parent}"'
            ).fetchone()
            first, last = self.raw.execute(
                f'SELECT MIN("{column}"), MAX("{column}") FROM "{table}"'
            ).fetchone()
            if first is None:
                continue  # no row refers to it
            if not n or n != hi - lo + 1:
                break  # gaps: check row by row below
            if first < lo or last > hi:
                raise RuntimeError(f"{table}.{column}: rows refer to missing rows of {parent}")
        else:
            return
        bad = self.raw.execute(f'PRAGMA foreign_key_check("{table}")').fetchmany(5)
        if bad:
            raise RuntimeError(f"{table}: rows refer to missing rows: {bad}")

    def write(self, table: str, columns: list[str], rows: list[tuple]) -> None:
        if not rows:
            return
        sql = (
            f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({", ".join("?" * len(columns))})'
        )
        self.raw.executemany(sql, rows)

    def restore(self, tables, fts_tables: list[str]) -> None:
        for table in [t for t in tables if t in self.saved]:
            started = time.perf_counter()
            for kind, _name, sql in self.saved[table]:
                if kind == "index":
                    self.raw.execute(sql)
            if table in fts_tables and table not in self.indexed:
                self.raw.execute(f"INSERT INTO {table}_fts({table}_fts) VALUES('rebuild')")
            elif table in self.indexed:
                self.raw.execute(
                    f"INSERT INTO {table}_fts({table}_fts, rank) "
                    f"VALUES('automerge', {self.AUTOMERGE})"
                )
            for kind, _name, sql in self.saved.pop(table):
                if kind == "trigger":
                    self.raw.execute(sql)
            if self.check_foreign_keys:
                self.check_references(table)
            _trace(f"indexed {table} in {time.perf_counter() - started:.1f} s")


class PostgresWriter(_Writer):
    def drop_indexes(self, tables: list[str], keep: list[str] = ()) -> None:
        with self.raw.cursor() as cur:
            # Rows written before in the same transaction (the users, in the
            # smoke test) leave deferred checks pending, and PostgreSQL does not
            # alter a table while they are.
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cur.execute("SET CONSTRAINTS ALL DEFERRED")
            for table in tables:
                cur.execute(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
                    "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
                    [table],
                )
                self.saved[table] = cur.fetchall()
                for name, _sql in self.saved[table]:
                    cur.execute(f'DROP INDEX "{name}"')
                # Foreign keys too: adding one back checks every row in one
                # query, where the deferred checks of a load go row by row.
                cur.execute(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = %s::regclass AND contype = 'f'",
                    [table],
                )
                for name, definition in cur.fetchall():
                    cur.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
                    self.saved[table].append(
                        (name, f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
                    )

    def write(self, table: str, columns: list[str], rows: list[tuple]) -> None:
        if not rows:
            return
        sql = f'COPY "{table}" ({", ".join(columns)}) FROM STDIN'
        with self.raw.cursor() as cur, cur.copy(sql) as copy:
            write_row = copy.write_row
            for values in rows:
                write_row(values)

    def restore(self, tables, fts_tables: list[str]) -> None:
        tables = [t for t in tables if t in self.saved]
        with self.raw.cursor() as cur:
            # Run the deferred foreign key checks now: PostgreSQL does not
            # create an index while trigger events are pending.
            started = time.perf_counter()
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cur.execute("SET CONSTRAINTS ALL DEFERRED")
            _trace(f"checked foreign keys in {time.perf_counter() - started:.1f} s")
            cur.execute("SET maintenance_work_mem = '1GB'")
            for table in tables:
                started = time.perf_counter()
                for _name, sql in self.saved.pop(table):
                    cur.execute(sql)
                _trace(f"indexed {table} in {time.perf_counter() - started:.1f} s")


# The generator process ----------------------------------------------------------------


def _no_database(*args, **kwargs):
    raise RuntimeError("the generator process must not use the database")


def _generate(queue, gen, steps, naive_datetimes: bool, definitions: dict, refs: bool) -> None:
    """Run in a forked process: generate every step's rows and send them as tuples.

    Sends ``("rows", driving table, [(table, columns, tuples), ...])`` per
    batch, ``("done", step)`` after each step, ``("end",)`` and then, if
    ``refs``, the generator's references (for the baseline).
    """
    import gc

    from django.db import connection

    from kizuna.core import customfields

    # The rows hold no reference cycles and are freed as soon as they are
    # sent: the cyclic collector would only walk the growing references
    # (companies, contacts) again and again.
    gc.disable()
    # The parent's connection is in the middle of the load: never touch it.
    connection.execute_wrappers.append(_no_database)
    customfields.definitions = definitions.__getitem__
    for step, method, count, first_id in steps:
        for batch in getattr(gen, method)(count, first_id):
            parts = [
                (model._meta.db_table, *to_tuples(model, rows, naive_datetimes))
                for model, rows in batch.items()
                if rows
            ]
            queue.put(("rows", step, parts))
        queue.put(("done", step))
        _trace(f"generated {step}")
    queue.put(("end",))
    if refs:
        queue.put((gen.companies, gen.contacts, gen.contacts_by_company, gen.lead_refs))
    queue.close()
    queue.join_thread()


def _receive(queue, process):
    """The next message from the generator process; fails if that process died."""
    import queue as queues

    while True:
        try:
            return queue.get(timeout=1)
        except queues.Empty:
            if not process.is_alive():
                raise RuntimeError(f"the generator process failed ({process.exitcode})") from None


def _fast_pragmas(connection) -> dict[str, object] | None:
    """SQLite settings for the benchmark's throwaway database during the load.

    Returns the previous values (``None`` inside a transaction, where they
    cannot change: the test suite's).
    """
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return None
    raw = connection.connection
    names = ["journal_mode", "synchronous", "cache_size", "threads", "foreign_keys"]
    saved = {name: raw.execute(f"PRAGMA {name}").fetchone()[0] for name in names}
    # References are checked per table once its rows are in (one pass over
    # the table), rather than row by row while they are written.
    raw.execute("PRAGMA foreign_keys=OFF")
    raw.execute("PRAGMA journal_mode=OFF")
    raw.execute("PRAGMA synchronous=OFF")
    raw.execute("PRAGMA cache_size=-2000000")
    # Worker threads for the sorter of CREATE INDEX.
    raw.execute("PRAGMA threads=2")
    return saved


def _restore_pragmas(connection, saved: dict[str, object] | None) -> None:
    if saved:
        for name, value in saved.items():
            connection.connection.execute(f"PRAGMA {name}={value}")


# Seeding ---------------------------------------------------------------------------------


@dataclass
class SeedResult:
    vendor: str
    tables: dict[str, list[float]] = field(default_factory=dict)  # table → [rows, seconds]
    index_seconds: float = 0.0
    total_rows: int = 0
    total_seconds: float = 0.0
    baseline_rows: int = 0
    baseline_seconds: float = 0.0
    org: object = None

    @property
    def rows_per_second(self) -> float:
        return self.total_rows / self.total_seconds if self.total_seconds else 0.0

    @property
    def baseline_rows_per_second(self) -> float:
        return self.baseline_rows / self.baseline_seconds if self.baseline_seconds else 0.0


def seed(
    *,
    companies: int,
    contacts: int,
    activities: int,
    leads: int | None = None,
    teams: int = 10,
    users: int = 200,
    baseline_rows: int = 50_000,
    random_seed: int = 7,
) -> SeedResult:
    """Create the org, write the customers fast, then the bulk_create baseline.

    A forked process generates the rows (the same rows, in the same order,
    as generating them here) while this one writes them; the indexes of the
    customer tables are rebuilt while the activities are still being
    generated.
    """
    import multiprocessing

    from django.db import connection, transaction

    from kizuna.activities.models import Activity
    from kizuna.core.customfields import definitions
    from kizuna.core.models import Tag
    from kizuna.demo import generate as g

    leads = contacts // 10 if leads is None else leads
    vendor = connection.vendor
    result = SeedResult(vendor=vendor)
    with transaction.atomic():
        g.create_reference_data(org_name="Kizuna bench")
        org = g.create_scaled_org(teams=teams, users=users, password="kizuna-bench")
    result.org = org
    tag_ids = sorted(Tag.objects.filter(name__in=g.DEMO_TAGS).values_list("id", flat=True))
    gen = g.Generator(
        org, seed=random_seed, korean_share=0.1, tag_ids=tag_ids, custom=g.CustomValues()
    )
    ids = g.first_ids()
    connection.ensure_connection()
    writer = (PostgresWriter if vendor == "postgresql" else SqliteWriter)(connection)
    tables = [m._meta.db_table for m in g.TABLE_ORDER]
    searchable = [m._meta.db_table for m in g.ID_TABLES]
    steps = [
        (g.Company._meta.db_table, "company_batches", companies, ids[g.Company]),
        (g.Contact._meta.db_table, "contact_batches", contacts, ids[g.Contact]),
        (g.Lead._meta.db_table, "lead_batches", leads, ids[g.Lead]),
        (g.Activity._meta.db_table, "activity_batches", activities, ids[g.Activity]),
    ]
    defs = {t: definitions(t) for t in ("company", "contact", "lead", "activity")}
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    saved_pragmas = _fast_pragmas(connection)
    writer.check_foreign_keys = saved_pragmas is not None

    def entry(table: str) -> list[float]:
        return result.tables.setdefault(table, [0, 0.0])

    started = time.perf_counter()
    process = context.Process(
        target=_generate,
        args=(queue, gen, steps, vendor != "postgresql", defs, bool(baseline_rows)),
        daemon=True,
    )
    process.start()
    customer_tables = tables[: tables.index(g.Activity._meta.db_table)]
    refs = None
    step_tables: dict[str, dict[str, None]] = {}
    try:
        with transaction.atomic():
            # SQLite: the customer tables are written while the other process
            # is still generating, so this one has time to keep their indexes
            # up to date as it goes; the activities are written last.
            writer.drop_indexes(tables, keep=customer_tables if vendor == "sqlite" else [])
            while True:
                t0 = time.perf_counter()
                message = _receive(queue, process)
                # Waiting for rows counts toward the table that drives them.
                waited = time.perf_counter() - t0
                kind = message[0]
                if kind == "rows":
                    _kind, step, parts = message
                    entry(step)[1] += waited
                    for table, columns, rows in parts:
                        step_tables.setdefault(step, {})[table] = None
                        t0 = time.perf_counter()
                        writer.write(table, columns, rows)
                        if table in searchable:
                            # Index the text now, while the other process
                            # works, rather than rebuild the index after.
                            writer.index_rows(table, columns, rows)
                        spent = time.perf_counter() - t0
                        e = entry(table)
                        e[0] += len(rows)
                        e[1] += spent
                elif kind == "done" and message[1] != g.Activity._meta.db_table:
                    # A step's tables are complete: index them while the
                    # other process generates the next step's rows.
                    t0 = time.perf_counter()
                    writer.restore(step_tables.pop(message[1], []), searchable)
                    result.index_seconds += time.perf_counter() - t0
                elif kind == "end":
                    break
            t0 = time.perf_counter()
            writer.restore(list(writer.saved), searchable)
            g.reset_sequences(g.ID_TABLES)
            result.index_seconds += time.perf_counter() - t0
        result.total_seconds = time.perf_counter() - started
        if baseline_rows:
            refs = _receive(queue, process)
    finally:
        process.join(timeout=30)
        if process.is_alive():
            process.kill()
        _restore_pragmas(connection, saved_pragmas)
    result.total_rows = int(sum(r for r, _s in result.tables.values()))

    # Baseline: the same kind of rows through the ORM, indexes in place.
    if baseline_rows:
        first = Activity.objects.order_by("-id").values_list("id", flat=True).first() + 1
        base_gen = g.Generator(org, seed=random_seed + 1, korean_share=0.1)
        assert refs is not None
        base_gen.companies, base_gen.contacts, base_gen.contacts_by_company = refs[:3]
        base_gen.lead_refs = refs[3]
        t0 = time.perf_counter()
        with transaction.atomic():
            for batch in base_gen.activity_batches(baseline_rows, first, batch=10_000):
                Activity.objects.bulk_create(
                    (Activity(**row) for row in batch[Activity]), batch_size=2000
                )
        result.baseline_seconds = time.perf_counter() - t0
        result.baseline_rows = baseline_rows
        with transaction.atomic():
            Activity.objects.filter(id__gte=first).delete()
        g.reset_sequences([Activity])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return result


# Requests ---------------------------------------------------------------------------------


@dataclass
class Timing:
    endpoint: str
    user: str
    detail: str = ""
    available: bool = True
    note: str = ""
    samples_ms: list[float] = field(default_factory=list)
    queries: int | None = None
    statuses: set[int] = field(default_factory=set)

    def pct(self, p: float) -> float:
        s = sorted(self.samples_ms)
        return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def _endpoints(org, rep, token: str) -> list[tuple[str, str, object]]:
    """(name, description, a function of the request number → (path, headers))."""
    from django.db.models import Count
    from django.urls import NoReverseMatch, Resolver404, resolve, reverse

    from kizuna.activities.models import Activity
    from kizuna.customers.models import Company

    def url_or_none(name, *args):
        try:
            return reverse(name, args=args)
        except NoReverseMatch:
            return None

    mine = Company.objects.filter(owner=rep, kind="company")
    prefecture = (
        mine.values("prefecture").annotate(n=Count("id")).order_by("-n").first() or {}
    ).get("prefecture", "東京都")
    # Companies of the rep's with the longest timelines first.
    busy = list(
        Activity.objects.filter(company__in=mine.values("id"))
        .values("company_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("company_id", flat=True)[:20]
    ) or list(mine.values_list("id", flat=True)[:20])
    terms = ["東洋", "商事", "佐藤", "精機"]
    endpoints = []

    base = url_or_none("customers:company_list")
    endpoints.append(
        (
            "company list (prefecture + owner)",
            f"prefecture={prefecture}&owner={rep.pk}",
            (lambda i: (f"{base}?prefecture={prefecture}&owner={rep.pk}", {})) if base else None,
        )
    )
    detail = url_or_none("customers:company_detail", 1)
    endpoints.append(
        (
            "company detail + timeline",
            f"{len(busy)} busiest companies of the rep",
            (
                (lambda i: (reverse("customers:company_detail", args=[busy[i % len(busy)]]), {}))
                if detail and busy
                else None
            ),
        )
    )
    search = url_or_none("core:search")
    endpoints.append(
        (
            "global search (2 chars)",
            "q=" + "/".join(terms),
            (lambda i: (f"{search}?q={terms[i % len(terms)]}", {})) if search else None,
        )
    )
    api_path = "/api/v1/contacts"
    try:
        resolve(api_path)
        api_ok = True
    except Resolver404:
        api_ok = False
    endpoints.append(
        (
            "API contact list",
            "limit=50",
            (
                (lambda i: (f"{api_path}?limit=50", {"Authorization": f"Bearer {token}"}))
                if api_ok
                else None
            ),
        )
    )
    return endpoints


def measure(*, org, requests: int, warmup: int = 5, only: str = "") -> list[Timing]:
    """Time every endpoint as the rep and as the admin."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from kizuna.iam.services import token_create

    timings = []
    for label, user in [("rep", org.rep), ("admin", org.admin)]:
        _token, key = token_create(user=user, name="bench")
        client = Client(raise_request_exception=False)
        client.force_login(user)
        for name, detail, make in _endpoints(org, org.rep, key):
            if only and only.lower() not in name.lower():
                continue
            timing = Timing(name, label, detail)
            timings.append(timing)
            if make is None:
                timing.available = False
                timing.note = "not available (URL does not resolve)"
                continue
            for i in range(warmup):
                path, headers = make(i)
                client.get(path, headers=headers)
            path, headers = make(0)
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(path, headers=headers)
            timing.queries = len(ctx.captured_queries)
            if response.status_code == 404 and name.startswith("API"):
                timing.available = False
                timing.note = "not available (404)"
                continue
            for i in range(requests):
                path, headers = make(i)
                t0 = time.perf_counter()
                response = client.get(path, headers=headers)
                timing.samples_ms.append((time.perf_counter() - t0) * 1000)
                timing.statuses.add(response.status_code)
            if timing.statuses != {200}:
                timing.note = "status " + ", ".join(map(str, sorted(timing.statuses)))
    return timings


# Report -----------------------------------------------------------------------------------


def report(result: SeedResult | None, timings: list[Timing], sizes: dict) -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            db_version = "PostgreSQL " + cursor.fetchone()[0]
    else:
        import sqlite3

        db_version = "SQLite " + sqlite3.sqlite_version
    lines = [
        f"# Foundation benchmark — {db_version}",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M')}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs. Requested: {sizes}.",
        "",
    ]
    if result is None:
        lines += ["Reused a kept database (--reuse): not seeded in this run.", ""]
    else:
        lines += _seed_lines(result)
    lines += _request_lines(timings)
    return "\n".join(lines)


def _seed_lines(result: SeedResult) -> list[str]:
    lines = [
        "## Seeding (generate + write, one transaction per step)",
        "",
        "| table | rows | seconds | rows/s |",
        "|---|---:|---:|---:|",
    ]
    for table, (rows, seconds) in result.tables.items():
        rate = rows / seconds if seconds else 0
        lines.append(f"| {table} | {int(rows):,} | {seconds:.1f} | {rate:,.0f} |")
    lines += [
        f"| indexes + search index rebuild | | {result.index_seconds:.1f} | |",
        f"| **all** | **{result.total_rows:,}** | **{result.total_seconds:.1f}** | "
        f"**{result.rows_per_second:,.0f}** |",
        "",
    ]
    if result.baseline_rows:
        lines += [
            f"Baseline, same run: Django `bulk_create` of {result.baseline_rows:,} activities "
            f"(indexes and triggers in place): {result.baseline_seconds:.1f} s, "
            f"{result.baseline_rows_per_second:,.0f} rows/s. Fast path / baseline: "
            f"**{result.rows_per_second / result.baseline_rows_per_second:.1f}×** overall, "
            + (
                f"{_rate(result, 'activities_activity') / result.baseline_rows_per_second:.1f}× "
                "for activities alone."
            ),
            "",
        ]
    return lines


def _request_lines(timings: list[Timing]) -> list[str]:
    lines = [
        "## Requests (server time in-process, ms)",
        "",
        "| request | user | p50 | p95 | max | SQL queries | target p95 < 100 ms |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for t in timings:
        if not t.available or not t.samples_ms:
            lines.append(f"| {t.endpoint} | {t.user} | – | – | – | – | {t.note} |")
            continue
        p95 = t.pct(95)
        verdict = "ok" if p95 < TARGET_P95_MS else "**missed**"
        if t.note:
            verdict += f" ({t.note})"
        lines.append(
            f"| {t.endpoint} | {t.user} | {t.pct(50):.1f} | {p95:.1f} | "
            f"{max(t.samples_ms):.1f} | {t.queries} | {verdict} |"
        )
    details = sorted({(t.endpoint, t.detail) for t in timings if t.detail})
    lines += ["", "Parameters: " + "; ".join(f"{e}: {d}" for e, d in details), ""]
    return lines


def kept_org():
    """The admin and the rep of a database seeded by an earlier run."""
    from kizuna.demo.generate import Org
    from kizuna.iam.models import User

    return Org(
        seats=[],
        admin=User.objects.get(username="bench-admin"),
        rep=User.objects.get(username="bench-t0-u1"),
    )


def _rate(result: SeedResult, table: str) -> float:
    rows, seconds = result.tables.get(table, (0, 0))
    return rows / seconds if seconds else 0.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (default: SQLite)")
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--contacts", type=int, default=500_000)
    parser.add_argument("--activities", type=int, default=1_000_000)
    parser.add_argument("--leads", type=int, default=None, help="default: contacts / 10")
    parser.add_argument("--teams", type=int, default=10)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--baseline", type=int, default=50_000, help="bulk_create rows")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--output", default="", help="Markdown file (default: results/)")
    parser.add_argument(
        "--reuse",
        default="",
        metavar="DATA_DIR",
        help="measure a database kept by --keep without seeding it again (SQLite: the kept "
        "KIZUNA_DATA_DIR; PostgreSQL: any value, the URL names the database); migrations are "
        "applied first, the database is kept, and results go to stdout unless --output is given",
    )
    parser.add_argument("--only", default="", help="measure only requests whose name has this")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    cleanup = configure(args.database_url or None, args.reuse or None)
    if args.reuse:
        args.keep = True
    try:
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", interactive=False, verbosity=0)
        if args.reuse:
            result = None
            org = kept_org()
        else:
            print(f"Seeding on {connection.vendor} …", flush=True)
            result = seed(
                companies=args.companies,
                contacts=args.contacts,
                activities=args.activities,
                leads=args.leads,
                teams=args.teams,
                users=args.users,
                baseline_rows=args.baseline,
            )
            print(f"  {result.total_rows:,} rows in {result.total_seconds:.1f} s", flush=True)
            org = result.org
        print("Measuring requests …", flush=True)
        timings = measure(org=org, requests=args.requests, only=args.only)
        sizes = {
            "companies": args.companies,
            "contacts": args.contacts,
            "activities": args.activities,
            "users": args.users,
            "teams": args.teams,
            "requests": args.requests,
        }
        text = report(result, timings, sizes)
        publish(text, args, cleanup, name="foundation")
    finally:
        teardown(cleanup, keep=args.keep)


if __name__ == "__main__":
    main()
