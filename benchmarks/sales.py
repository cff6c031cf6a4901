"""Sales pipeline benchmark: a large pipeline, then the board, stage moves and the forecast.

    .venv/bin/python benchmarks/sales.py [--database-url URL]
        [--open 5000 --closed 200000 --companies 20000] [--requests 200]

Issue #3's speed targets: with 5,000 open deals and 200,000 closed ones,
board first paint p95 < 150 ms, a stage move p95 < 50 ms, the forecast for a
quarter p95 < 200 ms (server time), on SQLite and on PostgreSQL.

Without --database-url the data goes into SQLite in a fresh temporary
KIZUNA_DATA_DIR; with a PostgreSQL URL the script creates a fresh database
(``kizuna_bench`` unless the URL names one) and drops it at the end.

(a) Seeding: the org, the reference data and the companies come from the
foundation benchmark's fast path (``benchmarks/foundation.py``); then the
deals of the shipped 6-phase pipeline and their stage history are generated
here and written as tuples (``executemany`` on SQLite, ``COPY`` on
PostgreSQL) with the secondary indexes, the search triggers and (PostgreSQL)
the foreign keys dropped during the load and put back after it. Open deals
are spread over the open stages and have captured what the stages they
passed require (about half also what their current stage requires); closed
deals were won or lost over the last ``--years`` years. Every deal has its
entry row in the stage history, open deals one row per stage reached, closed
deals also the closing move.

(b) Each request is timed in-process with ``django.test.Client`` (server time:
middleware, view, queries, template) after a few warm-up requests, as a rep
who sees her team's deals and as an org admin: the board's first paint, a
stage move from the board (JSON; a backward move, then the forward move back,
which passes the exit criteria; and a forward move refused because the stage
being left is incomplete), and the forecast for this quarter by owner and by
team.

The results go to stdout and to benchmarks/results/sales-<vendor>.md.
To iterate on a query, seed once with ``--keep`` and then measure the kept
database again with ``--reuse DATA_DIR`` (PostgreSQL: ``--reuse pg`` and the
same URL), optionally ``--only forecast``.
"""

import argparse
import datetime
import logging
import os
import platform
import random
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import siblings  # noqa: E402

RESULTS_DIR = Path(__file__).resolve().parent / "results"
TARGETS_MS = {"board": 150.0, "move": 50.0, "forecast": 200.0}


# Seeding -------------------------------------------------------------------------------------


@dataclass
class SeedResult:
    vendor: str
    org: object = None
    org_seconds: float = 0.0
    tables: dict[str, list[float]] = field(default_factory=dict)  # table → [rows, seconds]
    generate_seconds: float = 0.0
    index_seconds: float = 0.0
    total_seconds: float = 0.0


# What a stage's exit criteria ask for, as deal field values (see sales.criteria).
CAPTURED = {
    "budget": {"budget_status": "captured", "budget_note": "今期予算内"},
    "authority": {"authority_status": "captured", "authority_note": "部長決裁"},
    "need": {"need_status": "captured", "need_note": "手作業の削減"},
    "timing": {"timing_status": "captured", "timing_note": "来期初に稼働"},
    "first_reaction": {"first_reaction": "positive"},
    "competitor": {"competitor": "no"},
    "hurdle": {"hurdle": "approval", "hurdle_note": "役員会で稟議"},
    "next_step": {"next_step": "scheduled"},
}
SUBJECTS = {
    False: ["クラウド会計システム導入", "営業支援ツール刷新", "保守契約更新", "全社PC入替"],
    True: ["클라우드 ERP 도입", "영업 지원 시스템 교체", "유지보수 계약 갱신", "보안 진단"],
}
NEXT_ACTIONS = ["定例MTG", "デモ実施", "見積提出", "決裁者面談"]


class DealGenerator:
    """Deal rows (dicts of column values) and their stage history, consistent with the
    pipeline's exit criteria."""

    def __init__(self, *, pipeline, companies, reasons, seed: int, years: float):
        from django.utils import timezone

        from kizuna.core.text import search_grams
        from kizuna.sales.models import Deal, Stage

        self.rng = random.Random(seed)
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.years = years
        stages = list(pipeline.stages.order_by("position"))
        self.stages = stages
        self.open_stages = [s for s in stages if s.outcome == Stage.Outcome.OPEN]
        self.won = [s for s in stages if s.outcome == Stage.Outcome.WON]
        self.lost = next(s for s in stages if s.outcome == Stage.Outcome.LOST)
        self.pipeline = pipeline
        self.companies = companies  # [(id, owner_id, team_id, kr)]
        self.reasons = reasons
        self._grams = search_grams
        self._grams_cache: dict[tuple, str] = {}
        defaults = {f.attname: f.get_default() for f in Deal._meta.concrete_fields}
        defaults.pop("id")
        self.defaults = defaults

    def _search_index(self, *values: str) -> str:
        cached = self._grams_cache.get(values)
        if cached is None:
            cached = self._grams_cache[values] = self._grams(*values)
        return cached

    def _capture(self, row: dict, stage) -> None:
        for key in stage.required_fields:
            row.update(CAPTURED.get(key, {}))
            if key == "next_action" and not row["next_action"]:
                row["next_action"] = "見積送付"
                row["next_action_due"] = self.today + datetime.timedelta(days=7)
        if stage.checklist:
            row["checklist_done"][str(stage.pk)] = [item["key"] for item in stage.checklist]

    def _row(self, pk: int, target, created: datetime.datetime) -> dict:
        rng = self.rng
        company_id, owner_id, team_id, kr = rng.choice(self.companies)
        row = dict(self.defaults)
        row.update(
            id=pk,
            created_at=created,
            updated_at=created,
            owner_id=owner_id,
            team_id=team_id,
            custom_field_data={},
            checklist_done={},
            name=rng.choice(SUBJECTS[kr]),
            company_id=company_id,
            pipeline_id=self.pipeline.pk,
            stage_id=target.pk,
            status=target.outcome,
            currency="KRW" if kr else "JPY",
            amount=Decimal(rng.randrange(10, 900) * (100_000 if kr else 10_000)),
            channel=rng.choice(["web_form", "referral", "trade_show", "seminar", "phone"]),
            forecast_category=rng.choice(["pipeline", "pipeline", "best_case", "commit"]),
        )
        return row

    def open_deal(self, pk: int) -> tuple[dict, list]:
        rng, now = self.rng, self.now
        weights = [5, 4, 4, 3, 3, 3, 2, 2][: len(self.open_stages)]
        target = rng.choices(self.open_stages, weights)[0]
        path = [s for s in self.open_stages if s.position <= target.position]
        created = now - datetime.timedelta(days=rng.uniform(9 * len(path) + 5, 240))
        entered = now - datetime.timedelta(days=rng.uniform(0, 9 * len(path)))
        entered = max(entered, created)
        row = self._row(pk, target, created)
        for stage in path[:-1]:
            self._capture(row, stage)
        # About half the deals have also captured what their current stage asks for.
        if pk % 2 == 0:
            self._capture(row, target)
        if not row["next_action"] and rng.random() < 0.75:
            row["next_action"] = rng.choice(NEXT_ACTIONS)
            row["next_action_due"] = self.today + datetime.timedelta(days=rng.randint(-7, 21))
        row["expected_close_date"] = self.today + datetime.timedelta(days=rng.randint(-20, 150))
        row["stage_entered_at"] = entered
        row["last_touched_at"] = entered + (now - entered) * rng.random() * 0.5
        row["updated_at"] = row["last_touched_at"]
        row["search_index"] = self._search_index(row["name"], row["next_action"])
        step = (entered - created) / max(1, len(path) - 1)
        changes = []
        previous = None
        at = created
        for i, stage in enumerate(path):
            at = created + step * i if i < len(path) - 1 else entered
            changes.append(
                (previous, stage, at, None if previous is None else int(step.total_seconds()))
            )
            previous = stage
        return row, changes

    def closed_deal(self, pk: int) -> tuple[dict, list]:
        rng, now = self.rng, self.now
        closed = now - datetime.timedelta(days=rng.uniform(0, 365 * self.years))
        created = closed - datetime.timedelta(days=rng.uniform(14, 180))
        if rng.random() < 0.35:
            target = self.won[0] if rng.random() < 0.85 or len(self.won) == 1 else self.won[1]
            reached = self.open_stages[-1]
        else:
            target = self.lost
            reached = rng.choice(self.open_stages)
        row = self._row(pk, target, created)
        for stage in self.open_stages:
            if stage.position < reached.position or target is not self.lost:
                self._capture(row, stage)
        if target is self.lost and self.reasons:
            row["loss_reason_id"] = rng.choice(self.reasons)
        row["expected_close_date"] = closed.date() + datetime.timedelta(days=rng.randint(-20, 20))
        row["stage_entered_at"] = row["last_touched_at"] = row["closed_at"] = closed
        row["updated_at"] = closed
        row["search_index"] = self._search_index(row["name"], row["next_action"])
        first = self.open_stages[0]
        changes = [(None, first, created, None)]
        changes.append((first, target, closed, int((closed - created).total_seconds())))
        return row, changes


def _change_rows(deal: dict, changes: list, first_id: int) -> list[dict]:
    return [
        {
            "id": first_id + i,
            "deal_id": deal["id"],
            "from_stage_id": previous.pk if previous is not None else None,
            "to_stage_id": stage.pk,
            "actor_id": deal["owner_id"],
            "at": at,
            "seconds_in_from": seconds,
        }
        for i, (previous, stage, at, seconds) in enumerate(changes)
    ]


def seed(
    *,
    open_deals: int,
    closed_deals: int,
    companies: int,
    contacts: int = 0,
    activities: int = 0,
    leads: int = 0,
    teams: int = 10,
    users: int = 200,
    years: float = 3.0,
    random_seed: int = 11,
    batch: int = 20_000,
) -> SeedResult:
    """The org and companies (and, if asked, leads and activities: foundation's fast
    path), then the deals and their history."""
    from django.db import connection, models, transaction

    from kizuna.customers.models import PROVINCES_KR, Company
    from kizuna.demo import generate as g
    from kizuna.sales.models import Deal, LossReason, Pipeline, StageChange

    fd = siblings.load("foundation")
    vendor = connection.vendor
    result = SeedResult(vendor=vendor)
    t0 = time.perf_counter()
    base = fd.seed(
        companies=companies,
        contacts=contacts,
        activities=activities,
        leads=leads,
        teams=teams,
        users=users,
        baseline_rows=0,
        random_seed=random_seed,
    )
    result.org = base.org
    result.org_seconds = time.perf_counter() - t0
    for table, entry in base.tables.items():
        result.tables[table] = entry

    pipeline = Pipeline.objects.filter(is_active=True, kind="new_business").first()
    assert pipeline is not None, "the shipped 6-phase pipeline is missing"
    refs = [
        (pk, owner_id, team_id, prefecture in PROVINCES_KR)
        for pk, owner_id, team_id, prefecture in Company.objects.filter(
            parent__isnull=True
        ).values_list("id", "owner_id", "team_id", "prefecture")
    ]
    gen = DealGenerator(
        pipeline=pipeline,
        companies=refs,
        reasons=list(LossReason.objects.values_list("id", flat=True)),
        seed=random_seed,
        years=years,
    )
    next_deal = (Deal.objects.aggregate(m=models.Max("id"))["m"] or 0) + 1
    next_change = (StageChange.objects.aggregate(m=models.Max("id"))["m"] or 0) + 1
    naive = vendor != "postgresql"
    writer = (fd.PostgresWriter if vendor == "postgresql" else fd.SqliteWriter)(connection)
    tables = [Deal._meta.db_table, StageChange._meta.db_table]
    connection.ensure_connection()
    saved_pragmas = fd._fast_pragmas(connection)
    started = time.perf_counter()
    try:
        with transaction.atomic():
            writer.drop_indexes(tables)
            kinds = [("open", open_deals), ("closed", closed_deals)]
            for kind, count in kinds:
                make = gen.open_deal if kind == "open" else gen.closed_deal
                done = 0
                while done < count:
                    t0 = time.perf_counter()
                    deals, changes = [], []
                    for _i in range(min(batch, count - done)):
                        row, history = make(next_deal)
                        next_deal += 1
                        deals.append(row)
                        changes += _change_rows(row, history, next_change)
                        next_change += len(history)
                    done += len(deals)
                    parts = [(Deal, deals), (StageChange, changes)]
                    written = [(m, *fd.to_tuples(m, rows, naive)) for m, rows in parts]
                    if naive:
                        written = [(m, c, _dates_as_text(rows)) for m, c, rows in written]
                    result.generate_seconds += time.perf_counter() - t0
                    for model, columns, rows in written:
                        t0 = time.perf_counter()
                        writer.write(model._meta.db_table, columns, rows)
                        entry = result.tables.setdefault(model._meta.db_table, [0, 0.0])
                        entry[0] += len(rows)
                        entry[1] += time.perf_counter() - t0
            t0 = time.perf_counter()
            writer.restore(tables, [Deal._meta.db_table])
            g.reset_sequences([Deal, StageChange])
            result.index_seconds = time.perf_counter() - t0
    finally:
        fd._restore_pragmas(connection, saved_pragmas)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    result.total_seconds = time.perf_counter() - started
    return result


def _dates_as_text(rows: list[tuple]) -> list[tuple]:
    """SQLite: dates as ISO text, as Django writes them (sqlite3's date adapter is deprecated)."""
    date, datetime_ = datetime.date, datetime.datetime
    return [
        tuple(
            v.isoformat() if isinstance(v, date) and not isinstance(v, datetime_) else v
            for v in row
        )
        for row in rows
    ]


# Requests --------------------------------------------------------------------------------------


@dataclass
class Timing:
    endpoint: str
    user: str
    kind: str  # board, move or forecast: which target applies
    detail: str = ""
    note: str = ""
    samples_ms: list[float] = field(default_factory=list)
    queries: int | None = None
    statuses: set[int] = field(default_factory=set)

    def pct(self, p: float) -> float:
        s = sorted(self.samples_ms)
        return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def _move_candidates(user, limit: int):
    """Open deals ``user`` may move: (backward pairs, refused moves).

    A pair is (deal id, stage one back, current stage): the backward move and then
    the forward move back, which passes the exit criteria of the stage one back.
    A refused move is (deal id, next stage) for a deal whose current stage asks
    for something it has not captured yet.
    """
    from kizuna.core import access
    from kizuna.sales import criteria
    from kizuna.sales.models import Deal, Stage

    deals = access.editable(Deal.objects.filter(status=Deal.Status.OPEN), user)
    pairs, refused = [], []
    for pipeline_id in deals.values_list("pipeline_id", flat=True).distinct()[:1]:
        stages = list(Stage.objects.filter(pipeline_id=pipeline_id).order_by("position"))
        open_stages = [s for s in stages if s.outcome == Stage.Outcome.OPEN]
        for back, here in zip(open_stages, open_stages[1:], strict=False):
            for deal in deals.filter(stage=here).order_by("id")[:limit]:
                if not criteria.missing_items(deal, [back]):
                    pairs.append((deal.pk, back.pk, here.pk))
        for here, ahead in zip(open_stages, open_stages[1:], strict=False):
            if not here.required_fields and not here.checklist:
                continue
            for deal in deals.filter(stage=here).order_by("id")[: limit * 2]:
                if criteria.missing_items(deal, [here]):
                    refused.append((deal.pk, ahead.pk))
    rng = random.Random(3)
    rng.shuffle(pairs)
    rng.shuffle(refused)
    return pairs[:limit], refused[:limit]


def _time(timing: Timing, make, count: int, warmup: int, expect: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for i in range(warmup):
        make(i)
    with CaptureQueriesContext(connection) as ctx:
        response = make(warmup)
    timing.queries = len(ctx.captured_queries)
    timing.statuses.add(response.status_code)
    for i in range(warmup + 1, warmup + 1 + count):
        t0 = time.perf_counter()
        response = make(i)
        timing.samples_ms.append((time.perf_counter() - t0) * 1000)
        timing.statuses.add(response.status_code)
    if timing.statuses != {expect}:
        timing.note = "status " + ", ".join(map(str, sorted(timing.statuses)))


def _time_pairs(move, back: Timing, forward: Timing, count: int, warmup: int) -> None:
    """Alternate backward and forward moves, ``count`` of each, timed separately."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for i in range(2 * warmup):
        move(i)
    for i, timing in [(2 * warmup, back), (2 * warmup + 1, forward)]:
        with CaptureQueriesContext(connection) as ctx:
            response = move(i)
        timing.queries = len(ctx.captured_queries)
        timing.statuses.add(response.status_code)
    for i in range(2 * warmup + 2, 2 * warmup + 2 + 2 * count):
        timing = back if i % 2 == 0 else forward
        t0 = time.perf_counter()
        response = move(i)
        timing.samples_ms.append((time.perf_counter() - t0) * 1000)
        timing.statuses.add(response.status_code)
    for timing in (back, forward):
        if timing.statuses != {200}:
            timing.note = "status " + ", ".join(map(str, sorted(timing.statuses)))


def measure(*, org, requests: int, warmup: int = 5, only: str = "") -> list[Timing]:
    """Time the board, the moves and the forecast as the rep and as the admin."""
    # The refused moves (422) would each log a warning.
    logging.getLogger("django.request").setLevel(logging.ERROR)
    timings: list[Timing] = []
    for label, user in [("rep", org.rep), ("admin", org.admin)]:
        timings += _measure_as(label, user, requests=requests, warmup=warmup, only=only)
    return timings


def _measure_as(label: str, user, *, requests: int, warmup: int, only: str) -> list[Timing]:
    from django.test import Client
    from django.urls import reverse

    timings: list[Timing] = []
    board_url = reverse("sales:board")
    forecast_url = reverse("sales:forecast")
    json_headers = {"Accept": "application/json"}
    client = Client(raise_request_exception=True)
    client.force_login(user)

    def wanted(name: str) -> bool:
        return not only or only.lower() in name.lower()

    if wanted("board"):
        t = Timing("board first paint", label, "board", board_url)
        timings.append(t)
        _time(t, lambda i: client.get(board_url), requests, warmup, 200)

    pairs, refused = _move_candidates(user, max(20, requests))
    if wanted("move") and pairs:
        back = Timing("stage move, backward", label, "move", f"{len(pairs)} deals")
        forward = Timing("stage move, forward (criteria met)", label, "move")
        timings += [back, forward]

        def move(i: int):
            # Even requests move a deal one stage back, odd ones forward again.
            deal_id, behind, here = pairs[(i // 2) % len(pairs)]
            url = reverse("sales:deal_move", args=[deal_id])
            stage = behind if i % 2 == 0 else here
            return client.post(url, {"stage": stage}, headers=json_headers)

        _time_pairs(move, back, forward, requests, warmup)
    if wanted("move") and refused:
        t = Timing("stage move, refused (criteria missing)", label, "move")
        t.detail = f"{len(refused)} deals"
        timings.append(t)

        def refuse(i: int):
            deal_id, stage_id = refused[i % len(refused)]
            url = reverse("sales:deal_move", args=[deal_id])
            return client.post(url, {"stage": stage_id}, headers=json_headers)

        _time(t, refuse, requests, warmup, 422)

    for by in ("owner", "team"):
        name = f"forecast, quarter by {by}"
        if not wanted(name):
            continue
        url = f"{forecast_url}?period=quarter&by={by}"
        t = Timing(name, label, "forecast", url)
        timings.append(t)
        _time(t, lambda i, url=url: client.get(url), requests, warmup, 200)
    return timings


# Report ----------------------------------------------------------------------------------------


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} CPUs"


def counts() -> dict[str, int]:
    from kizuna.customers.models import Company
    from kizuna.iam.models import Team, User
    from kizuna.sales.models import Deal, StageChange

    return {
        "open deals": Deal.objects.filter(status="open").count(),
        "won deals": Deal.objects.filter(status="won").count(),
        "lost deals": Deal.objects.filter(status="lost").count(),
        "stage changes": StageChange.objects.count(),
        "companies": Company.objects.count(),
        "users": User.objects.count(),
        "teams": Team.objects.count(),
    }


def report(result: SeedResult | None, timings: list[Timing], command: str) -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            db_version = "PostgreSQL " + cursor.fetchone()[0]
    else:
        import sqlite3

        db_version = "SQLite " + sqlite3.sqlite_version
    sizes = ", ".join(f"{n:,} {name}" for name, n in counts().items())
    lines = [
        f"# Sales pipeline benchmark — {db_version}",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M')}, Python {platform.python_version()}, {_machine()}.",
        "",
        f"Command: `{command}`",
        "",
        f"Data: {sizes}.",
        "",
    ]
    if result is None:
        lines += ["Reused a kept database (--reuse): not seeded in this run.", ""]
    else:
        lines += [
            "## Seeding",
            "",
            "| table | rows | seconds | rows/s |",
            "|---|---:|---:|---:|",
        ]
        for table, (rows, seconds) in result.tables.items():
            rate = rows / seconds if seconds else 0
            lines.append(f"| {table} | {int(rows):,} | {seconds:.1f} | {rate:,.0f} |")
        lines += [
            "",
            f"Org, reference data and companies (foundation's fast path, indexes included): "
            f"{result.org_seconds:.1f} s. Deals and stage history: generated in "
            f"{result.generate_seconds:.1f} s, indexes and search index put back in "
            f"{result.index_seconds:.1f} s, {result.total_seconds:.1f} s in all with ANALYZE.",
            "",
        ]
    lines += [
        "## Requests (server time in-process, ms)",
        "",
        "| request | user | p50 | p95 | max | SQL queries | target p95 |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for t in timings:
        if not t.samples_ms:
            lines.append(f"| {t.endpoint} | {t.user} | – | – | – | – | {t.note or 'no data'} |")
            continue
        target = TARGETS_MS[t.kind]
        p95 = t.pct(95)
        verdict = f"< {target:.0f}: " + ("ok" if p95 < target else "**missed**")
        if t.note:
            verdict += f" ({t.note})"
        lines.append(
            f"| {t.endpoint} | {t.user} | {t.pct(50):.1f} | {p95:.1f} | "
            f"{max(t.samples_ms):.1f} | {t.queries} | {verdict} |"
        )
    details = sorted({(t.endpoint, t.user, t.detail) for t in timings if t.detail})
    lines += ["", "Parameters: " + "; ".join(f"{e} ({u}): {d}" for e, u, d in details), ""]
    return "\n".join(lines)


def kept_org():
    return siblings.load("foundation").kept_org()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (default: SQLite)")
    parser.add_argument("--open", type=int, default=5_000, help="open deals")
    parser.add_argument("--closed", type=int, default=200_000, help="won and lost deals")
    parser.add_argument("--years", type=float, default=3.0, help="closed over this many years")
    parser.add_argument("--companies", type=int, default=20_000)
    parser.add_argument("--contacts", type=int, default=0)
    parser.add_argument("--teams", type=int, default=10)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--requests", type=int, default=200)
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
    fd = siblings.load("foundation")
    cleanup = fd.configure(args.database_url or None, args.reuse or None)
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
                open_deals=args.open,
                closed_deals=args.closed,
                companies=args.companies,
                contacts=args.contacts,
                teams=args.teams,
                users=args.users,
                years=args.years,
            )
            print(f"  seeded in {result.org_seconds + result.total_seconds:.1f} s", flush=True)
            org = result.org
        print("Measuring requests …", flush=True)
        timings = measure(org=org, requests=args.requests, only=args.only)
        command = " ".join(["python benchmarks/sales.py", *(argv or sys.argv[1:])])
        text = report(result, timings, command)
        fd.publish(text, args, cleanup, name="sales")
    finally:
        fd.teardown(cleanup, keep=args.keep)


if __name__ == "__main__":
    main()
