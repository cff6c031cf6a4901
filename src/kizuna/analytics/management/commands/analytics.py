import time

from django.core.management.base import BaseCommand

from kizuna.analytics import summary


class Command(BaseCommand):
    help = "Dashboard summary tables: `kizuna analytics rebuild` recomputes them from the records."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["rebuild"])
        parser.add_argument(
            "--table",
            action="append",
            choices=["deals", "leads", "activities"],
            help="Only these summaries (default: all).",
        )

    def handle(self, *args, action: str, table: list[str] | None = None, **options):
        started = time.perf_counter()
        written = summary.rebuild(tables=table)
        for name, n in written.items():
            self.stdout.write(f"{name}: {n:,} rows")
        self.stdout.write(f"{time.perf_counter() - started:.1f} s")
