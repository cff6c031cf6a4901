"""Dashboard benchmark: a large sales history, then the three dashboards.

    .venv/bin/python benchmarks/analytics.py [--database-url URL]
        [--deals 500000 --activities 2000000 --leads 200000] [--requests 30]

Issue #6's speed targets: with 500,000 deals, 2,000,000 activities and
200,000 leads, each dashboard (executive, manager, my dashboard) p95 < 600 ms
server time on SQLite and < 300 ms on PostgreSQL, with the query count.

Without --database-url the data goes into SQLite in a fresh temporary
KIZUNA_DATA_DIR; with a PostgreSQL URL the script creates a fresh database
(``kizuna_bench`` unless the URL names one) and drops it at the end.

(a) Seeding reuses the other benchmarks' machinery: the org, companies,
contacts, leads and activities come from the foundation benchmark's fast path
(``benchmarks/foundation.py``: a generator process, ``executemany`` /
``COPY``, indexes put back after the load), the deals and their stage history
from the sales benchmark's (``benchmarks/sales.py``). About a third of the
deals then get a source lead (one ``UPDATE``), so that channel conversion has
something to count, and every team gets a won-amount target for the current
quarter. ``ANALYZE`` runs at the end.

(b) Each dashboard is timed in-process with ``django.test.Client`` (server
time: middleware, view, queries, template) after a few warm-up requests, as a
rep who sees her team's data, as her team's manager and as an org admin.

The results go to stdout and to benchmarks/results/analytics-<vendor>.md.
To iterate on a query, seed once with ``--keep`` and then measure the kept
database again with ``--reuse DATA_DIR`` (PostgreSQL: ``--reuse pg`` and the
same URL), optionally ``--only manager``.
"""

import argparse
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import siblings  # noqa: E402

RESULTS_DIR = Path(__file__).resolve().parent / "results"
TARGETS_MS = {"sqlite": 600.0, "postgresql": 300.0}
DASHBOARDS = ("executive", "manager", "me")


# Seeding -------------------------------------------------------------------------------------


@dataclass
class SeedResult:
    vendor: str
    org: object = None
    tables: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0
    link_seconds: float = 0.0


def seed(
    *,
    deals: int,
    activities: int,
    leads: int,
    companies: int = 20_000,
    contacts: int = 20_000,
    open_share: float = 0.05,
    teams: int = 10,
    users: int = 200,
) -> SeedResult:
    """Org, customers, leads, activities and deals, then source leads and targets."""
    from django.db import connection, transaction

    from kizuna.analytics.models import Target
    from kizuna.analytics.periods import period_for
    from kizuna.customers.models import Lead
    from kizuna.iam.models import Team
    from kizuna.sales.models import Deal

    sales = siblings.load("sales")
    started = time.perf_counter()
    open_deals = int(deals * open_share)
    base = sales.seed(
        open_deals=open_deals,
        closed_deals=deals - open_deals,
        companies=companies,
        contacts=contacts,
        activities=activities,
        leads=leads,
        teams=teams,
        users=users,
    )
    result = SeedResult(vendor=connection.vendor, org=base.org, tables=base.tables)

    t0 = time.perf_counter()
    bounds = Lead.objects.order_by().values_list("id", flat=True)
    first, last = bounds.order_by("id").first(), bounds.order_by("-id").first()
    with transaction.atomic():
        if first is not None:
            span = last - first + 1
            with connection.cursor() as cursor:
                # Every third deal came from a lead (spread over all leads).
                cursor.execute(
                    f"UPDATE {Deal._meta.db_table} SET source_lead_id = %s + (id * 7919) %% %s "
                    "WHERE id %% 3 = 0",
                    [first, span],
                )
        quarter = period_for("quarter")
        Target.objects.bulk_create(
            Target(
                metric=Target.Metric.WON_AMOUNT,
                period_kind=Target.PeriodKind.QUARTER,
                period_start=quarter.start,
                team=team,
                value=3_000_000_000,
                currency="JPY",
            )
            for team in Team.objects.all()
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    result.link_seconds = time.perf_counter() - t0
    result.seconds = time.perf_counter() - started
    return result


def bench_users(org) -> list[tuple[str, object]]:
    """The rep, her team's manager (the team's first member) and the admin."""
    from kizuna.iam.models import User

    rep = org.rep
    manager = User.objects.filter(team_id=rep.team_id).order_by("id").first()
    return [("rep", rep), ("manager", manager), ("admin", org.admin)]


# Requests ------------------------------------------------------------------------------------


@dataclass
class Timing:
    dashboard: str
    user: str
    path: str
    samples_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    queries: int | None = None
    statuses: set[int] = field(default_factory=set)

    def pct(self, p: float) -> float:
        s = sorted(self.samples_ms)
        return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def measure(*, org, requests: int, warmup: int = 3, only: str = "") -> list[Timing]:
    """Time each dashboard as the rep, the manager and the admin."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    timings = []
    for label, user in bench_users(org):
        client = Client(raise_request_exception=True)
        client.force_login(user)
        for name in DASHBOARDS:
            if only and only.lower() not in name:
                continue
            path = reverse(f"analytics:{name}")
            timing = Timing(name, label, path)
            timings.append(timing)
            for _i in range(warmup):
                client.get(path)
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(path)
            timing.queries = len(ctx.captured_queries)
            timing.statuses.add(response.status_code)
            for _i in range(requests):
                t0, c0 = time.perf_counter(), time.process_time()
                response = client.get(path)
                timing.samples_ms.append((time.perf_counter() - t0) * 1000)
                timing.cpu_ms.append((time.process_time() - c0) * 1000)
                timing.statuses.add(response.status_code)
    return timings


# Report --------------------------------------------------------------------------------------


def counts() -> dict[str, int]:
    from kizuna.activities.models import Activity
    from kizuna.customers.models import Company, Lead
    from kizuna.sales.models import Deal, StageChange

    return {
        "deals": Deal.objects.count(),
        "open deals": Deal.objects.filter(status="open").count(),
        "stage changes": StageChange.objects.count(),
        "activities": Activity.objects.count(),
        "leads": Lead.objects.count(),
        "companies": Company.objects.count(),
    }


def build_summaries() -> dict[str, float]:
    """``kizuna analytics rebuild``: wall and CPU seconds, rows written."""
    from kizuna.analytics import summary

    t0, c0 = time.perf_counter(), time.process_time()
    rows = summary.rebuild()
    return {
        "wall": time.perf_counter() - t0,
        "cpu": time.process_time() - c0,
        **{k: float(v) for k, v in rows.items()},
    }


def hook_overhead(n: int) -> dict[str, float]:
    """deal_update ``n`` times on closed deals, with and without the summary
    hooks (each run rolled back): ms per write."""
    from django.db import transaction

    from kizuna.analytics import summary
    from kizuna.iam.models import User
    from kizuna.sales import services
    from kizuna.sales.models import Deal

    admin = (
        User.objects.filter(is_org_admin=True).first()
        or User.objects.filter(is_superuser=True).first()
    )
    ids = list(Deal.objects.filter(status="won").order_by("pk").values_list("pk", flat=True)[:n])

    class NoHook:
        def done(self, **_created):
            pass

    real = summary.track
    result: dict[str, float] = {}
    for label, track in (
        ("without", lambda **_kw: NoHook()),
        ("with", real),
        ("without", lambda **_kw: NoHook()),
        ("with", real),
    ):
        services.summary.track = track  # type: ignore[attr-defined]
        try:
            with transaction.atomic():
                t0, c0 = time.perf_counter(), time.process_time()
                for i, pk in enumerate(ids):
                    deal = Deal.objects.get(pk=pk)
                    services.deal_update(actor=admin, deal=deal, amount=deal.amount + 1 + i % 3)
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                transaction.set_rollback(True)
        finally:
            services.summary.track = real  # type: ignore[attr-defined]
        # The second round of each (warm caches) is the one kept.
        result[f"{label} wall ms"] = wall * 1000 / max(1, len(ids))
        result[f"{label} cpu ms"] = cpu * 1000 / max(1, len(ids))
    result["writes"] = float(len(ids))
    return result


def report(
    result: SeedResult | None,
    timings: list[Timing],
    command: str,
    build: dict[str, float] | None = None,
    hooks: dict[str, float] | None = None,
) -> str:
    from django.db import connection

    sales = siblings.load("sales")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            db_version = "PostgreSQL " + cursor.fetchone()[0]
    else:
        import sqlite3

        db_version = "SQLite " + sqlite3.sqlite_version
    target = TARGETS_MS.get(connection.vendor, 300.0)
    sizes = ", ".join(f"{n:,} {name}" for name, n in counts().items())
    lines = [
        f"# Dashboard benchmark — {db_version}",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M')}, {sales._machine()}.",
        "",
        f"Command: `{command}`",
        "",
        f"Data: {sizes}.",
        "",
    ]
    if result is None:
        lines += ["Reused a kept database (--reuse): not seeded in this run.", ""]
    else:
        lines += ["## Seeding", "", "| table | rows | seconds |", "|---|---:|---:|"]
        for table, (rows, seconds) in result.tables.items():
            lines.append(f"| {table} | {int(rows):,} | {seconds:.1f} |")
        lines += [
            "",
            f"All in {result.seconds:.1f} s (source leads, targets and ANALYZE: "
            f"{result.link_seconds:.1f} s).",
            "",
        ]
    if build:
        rows = ", ".join(f"{k} {int(v):,} rows" for k, v in build.items() if k[0].isupper())
        lines += [
            f"Summary build (`kizuna analytics rebuild`): {build['wall']:.1f} s wall, "
            f"{build['cpu']:.1f} s CPU ({rows}).",
            "",
        ]
    if hooks:
        lines += [
            f"Summary hooks per deal write (deal_update × {int(hooks['writes']):,} on won "
            f"deals, rolled back): {hooks['with wall ms']:.2f} ms wall / "
            f"{hooks['with cpu ms']:.2f} ms CPU with, {hooks['without wall ms']:.2f} ms / "
            f"{hooks['without cpu ms']:.2f} ms without.",
            "",
        ]
    lines += [
        "## Dashboards (server time in-process, ms)",
        "",
        f"| dashboard | user | p50 | p95 | max | CPU p50 | CPU p95 | SQL queries "
        f"| target p95 < {target:.0f} ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for t in timings:
        if not t.samples_ms:
            lines.append(
                f"| {t.dashboard} | {t.user} | – | – | – | – | – | {t.queries} | no data |"
            )
            continue
        p95 = t.pct(95)
        cpu = Timing(t.dashboard, t.user, t.path, t.cpu_ms or [0.0])
        verdict = "ok" if p95 < target else "**missed**"
        if t.statuses != {200}:
            verdict += " (status " + ", ".join(map(str, sorted(t.statuses))) + ")"
        lines.append(
            f"| {t.dashboard} ({t.path}) | {t.user} | {t.pct(50):.1f} | {p95:.1f} | "
            f"{max(t.samples_ms):.1f} | {cpu.pct(50):.1f} | {cpu.pct(95):.1f} | {t.queries} "
            f"| {verdict} |"
        )
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (default: SQLite)")
    parser.add_argument("--deals", type=int, default=500_000)
    parser.add_argument("--activities", type=int, default=2_000_000)
    parser.add_argument("--leads", type=int, default=200_000)
    parser.add_argument("--companies", type=int, default=20_000)
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--open-share", type=float, default=0.05, help="share of open deals")
    parser.add_argument("--teams", type=int, default=10)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--requests", type=int, default=30)
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
    parser.add_argument("--only", default="", help="measure only dashboards whose name has this")
    parser.add_argument(
        "--skip-summary-build",
        action="store_true",
        help="with --reuse: the kept database's summary tables are already built",
    )
    parser.add_argument(
        "--hook-writes", type=int, default=0, help="also time N deal writes with/without hooks"
    )
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
            org = fd.kept_org()
        else:
            print(f"Seeding on {connection.vendor} …", flush=True)
            result = seed(
                deals=args.deals,
                activities=args.activities,
                leads=args.leads,
                companies=args.companies,
                contacts=args.contacts,
                open_share=args.open_share,
                teams=args.teams,
                users=args.users,
            )
            print(f"  seeded in {result.seconds:.1f} s", flush=True)
            org = result.org
        build = None
        if not args.skip_summary_build:
            print("Building the summary tables …", flush=True)
            build = build_summaries()
            print(f"  built in {build['wall']:.1f} s", flush=True)
        hooks = hook_overhead(args.hook_writes) if args.hook_writes else None
        print("Measuring dashboards …", flush=True)
        timings = measure(org=org, requests=args.requests, only=args.only)
        command = " ".join(["python benchmarks/analytics.py", *(argv or sys.argv[1:])])
        text = report(result, timings, command, build, hooks)
        fd.publish(text, args, cleanup, name="analytics")
    finally:
        fd.teardown(cleanup, keep=args.keep)


if __name__ == "__main__":
    main()
