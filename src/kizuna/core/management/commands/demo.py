"""Load Japanese and Korean demo data into a new Kizuna."""

import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from kizuna.core.tasks import refresh_planner_statistics
from kizuna.customers.models import Company
from kizuna.demo.generate import DEMO_USERNAMES, delete_demo, load_demo
from kizuna.iam.models import User


class Command(BaseCommand):
    help = "Apply migrations and load realistic demo data (teams, customers, timeline)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete every company, contact, lead and activity and the demo users first.",
        )
        parser.add_argument("--password", default="kizuna-demo", help="Password of the demo users.")
        parser.add_argument("--seed", type=int, default=2024, help="Random seed.")

    def handle(self, *args, reset: bool, password: str, seed: int, **options):
        started = time.monotonic()
        call_command("migrate", interactive=False, verbosity=0)
        has_data = (
            Company.objects.exists() or User.objects.filter(username__in=DEMO_USERNAMES).exists()
        )
        if has_data and not reset:
            raise CommandError(
                "This database already has companies or demo users. "
                "Run `kizuna demo --reset` to delete them and load the demo data."
            )
        if reset:
            delete_demo()
        counts = load_demo(password=password, seed=seed)
        refresh_planner_statistics()
        elapsed = time.monotonic() - started
        w = self.stdout.write
        w(self.style.SUCCESS(f"Demo data loaded in {elapsed:.1f} s:"))
        for label, table in [
            ("users", "users"),
            ("companies, divisions and sites", "customers_company"),
            ("contacts", "customers_contact"),
            ("leads", "customers_lead"),
            ("activities", "activities_activity"),
        ]:
            w(f"  {counts.get(table, 0):>6} {label}")
        w("")
        w(f"Log in as  demo / {password}  (administrator).")
        w(
            "Other users (same password): yamamoto (営業本部長), sato (東京営業部長), "
            "ito (東京 rep), nakamura (関西営業部長), kim.minjun (서울영업팀장)."
        )
        w("Start the server with  kizuna serve  and open http://127.0.0.1:8000/")
