"""Report builder benchmark: a two-level grouped report over all deals.

    .venv/bin/python benchmarks/reports.py [--database-url URL]
        [--open 5000 --closed 495000 --companies 20000] [--runs 20]

Issue #6's target: a two-level grouped report over 500,000 deals < 1 s, on
SQLite and PostgreSQL.

Seeding is the sales benchmark's (``benchmarks/sales.py``: the org and the
companies through the foundation benchmark's fast path, then deals written as
tuples with the indexes dropped during the load). Then each report is run
``--runs`` times after a warm-up, in process, as the org admin (every deal)
and as a rep (her team's deals through the access gate), through the same
function the builder's preview, the API and the e-mails call
(``selectors_reports.run_spec``). The query count is that of one run.

Without --database-url the data goes into SQLite in a fresh temporary
KIZUNA_DATA_DIR; with a PostgreSQL URL the script creates a fresh database
(``kizuna_bench`` unless the URL names one) and drops it at the end. Results
go to stdout and to benchmarks/results/reports-<vendor>.md.
"""

import argparse
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import siblings  # noqa: E402

RESULTS_DIR = Path(__file__).resolve().parent / "results"
TARGET_MS = 1000.0

REPORTS = {
    "won amount by industry and fiscal quarter (all time)": {
        "object": "deal",
        "filters": [{"field": "status", "op": "in", "value": ["won"]}],
        "group_by": [
            {"field": "company.industry"},
            {"field": "closed_at", "period": "quarter"},
        ],
        "measures": [{"op": "count"}, {"op": "sum", "field": "amount"}],
    },
    "won amount by industry and quarter, last 12 months, one team": {
        "object": "deal",
        "filters": [
            {"field": "status", "op": "in", "value": ["won"]},
            {"field": "closed_at", "op": "period", "value": "last_12_months"},
            {"field": "team", "op": "in", "value": ["my_team"]},
        ],
        "group_by": [
            {"field": "company.industry"},
            {"field": "closed_at", "period": "quarter"},
        ],
        "measures": [{"op": "sum", "field": "amount"}],
    },
    "deals by owner and stage, average amount": {
        "object": "deal",
        "group_by": [{"field": "owner"}, {"field": "stage"}],
        "measures": [{"op": "count"}, {"op": "avg", "field": "amount"}],
    },
    "deals by month created and status": {
        "object": "deal",
        "group_by": [{"field": "created_at", "period": "month"}, {"field": "status"}],
        "measures": [{"op": "count"}],
    },
}


@dataclass
class Timing:
    report: str
    user: str
    rows: int = 0
    queries: int = 0
    samples_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)

    def cpu_pct(self, p: float) -> float:
        s = sorted(self.cpu_ms)
        return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]

    def pct(self, p: float) -> float:
        s = sorted(self.samples_ms)
        return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def _for_team(spec: dict, team_id) -> dict:
    """``my_team`` as the rep's team, so that the admin's run filters the same team."""
    filters = [
        {**f, "value": [team_id]} if f.get("value") == ["my_team"] else f
        for f in spec.get("filters", [])
    ]
    return {**spec, "filters": filters}


def measure(*, org, runs: int, warmup: int = 1) -> list[Timing]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import translation

    from kizuna.analytics import selectors_reports

    timings = []
    with translation.override("ja"):
        for label, user in (("admin", org.admin), ("rep", org.rep)):
            for name, spec in REPORTS.items():
                spec = _for_team(spec, org.rep.team_id)
                timing = Timing(report=name, user=label)
                for _i in range(warmup):
                    selectors_reports.run_spec(user=user, spec=spec)
                with CaptureQueriesContext(connection) as ctx:
                    result = selectors_reports.run_spec(user=user, spec=spec)
                assert not result.error, result.error
                timing.queries = len(ctx.captured_queries)
                timing.rows = len(result.rows)
                for _i in range(runs):
                    t0, c0 = time.perf_counter(), time.process_time()
                    selectors_reports.run_spec(user=user, spec=spec)
                    timing.samples_ms.append((time.perf_counter() - t0) * 1000)
                    timing.cpu_ms.append((time.process_time() - c0) * 1000)
                timings.append(timing)
                print(
                    f"  {label:5} {name}: p50 {timing.pct(50):.0f} ms, "
                    f"p95 {timing.pct(95):.0f} ms (CPU {timing.cpu_pct(50):.0f} ms), "
                    f"{timing.queries} queries",
                    flush=True,
                )
    return timings


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def report(sizes: dict, seed_seconds: float | None, timings: list[Timing], command: str) -> str:
    from django.db import connection

    sales = siblings.load("sales")
    lines = [
        f"# Report builder benchmark ({connection.vendor})",
        "",
        f"Command: `{command}`",
        f"Machine: {sales._machine()}; load average while measuring: {_load()}",
        "",
        "Data: " + ", ".join(f"{n:,} {t}" for t, n in sizes.items()),
    ]
    if seed_seconds is not None:
        lines.append(f"Seeded in {seed_seconds:.1f} s.")
    lines += [
        "",
        f"Target: a two-level grouped report over all deals < {TARGET_MS:.0f} ms.",
        "",
        "| report | user | groups | queries | p50 ms | p95 ms | max ms | CPU p50 ms | target |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for t in timings:
        met = "met" if t.pct(95) < TARGET_MS else "**missed**"
        lines.append(
            f"| {t.report} | {t.user} | {t.rows} | {t.queries} | {t.pct(50):.0f} | "
            f"{t.pct(95):.0f} | {max(t.samples_ms):.0f} | {t.cpu_pct(50):.0f} | {met} |"
        )
    lines += [
        "",
        "Queries per run: the custom field definitions, the fiscal year setting, the access "
        "policies (rep), the min and the max of the date (one query each, which SQLite reads "
        "from an index end) when no filter bounds it, the one grouped aggregate, and one name "
        "lookup per grouped relation (owner, stage).",
        "",
        "CPU: the benchmark process's CPU time per run. On SQLite the database runs in this "
        "process, so it is the work of the report itself, which the wall time exceeds when "
        "other processes share the two cores (see the load average); on PostgreSQL the "
        "server's work is not in it.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (default: SQLite)")
    parser.add_argument("--open", type=int, default=5_000)
    parser.add_argument("--closed", type=int, default=495_000)
    parser.add_argument("--companies", type=int, default=20_000)
    parser.add_argument("--teams", type=int, default=10)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--reuse", default="", metavar="DATA_DIR")
    parser.add_argument("--output", default="")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    sales = siblings.load("sales")
    fd = siblings.load("foundation")
    cleanup = fd.configure(args.database_url or None, args.reuse or None)
    if args.reuse:
        args.keep = True
    try:
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", interactive=False, verbosity=0)
        seed_seconds = None
        if args.reuse:
            org = sales.kept_org()
        else:
            print(f"Seeding on {connection.vendor} …", flush=True)
            result = sales.seed(
                open_deals=args.open,
                closed_deals=args.closed,
                companies=args.companies,
                teams=args.teams,
                users=args.users,
            )
            seed_seconds = result.org_seconds + result.total_seconds
            print(f"  seeded in {seed_seconds:.1f} s", flush=True)
            org = result.org
        from kizuna.sales.models import Deal

        sizes = {"deals": Deal.objects.count()}
        print("Running reports …", flush=True)
        timings = measure(org=org, runs=args.runs)
        command = " ".join(["python benchmarks/reports.py", *(argv or sys.argv[1:])])
        text = report(sizes, seed_seconds, timings, command)
        fd.publish(text, args, cleanup, name="reports")
    finally:
        fd.teardown(cleanup, keep=args.keep)


if __name__ == "__main__":
    main()
