"""Daily digest benchmark: N digests rendered and handed to SMTP.

    .venv/bin/python benchmarks/digest.py [--users 10000]
        [--database-url postgresql://postgres@127.0.0.1:5432/kizuna_bench_digest]

Seeds N users (Asia/Tokyo, a mix of ja/ko/en), each with two follow-ups this
week, one next week, an overdue task, a stalled deal and an unread
notification; starts a local aiosmtpd server in its own process (a sink
that accepts and drops every message); then times ``digest.send_digests``
for all N users at 09:00 Tokyo time: reading the sections in chunks of 500
users, rendering each digest (text + HTML) in its user's language, and
sending over SMTP. Target: 10,000 digests in < 60 s.

The results go to stdout and to benchmarks/results/digest-<vendor>.md.
"""

import argparse
import datetime
import os
import platform
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import siblings  # noqa: E402

RESULTS_DIR = Path(__file__).resolve().parent / "results"
TARGET_S = 60.0
NINE_IN_TOKYO = datetime.datetime(2026, 3, 4, 0, 0, tzinfo=datetime.UTC)


@dataclass
class Result:
    vendor: str
    users: int
    sent: int
    seed_s: float
    total_s: float
    cpu_s: float
    sink_cpu_s: float
    queries: int
    load: float

    @property
    def per_s(self) -> float:
        return self.sent / self.total_s if self.total_s else 0.0


def seed(users: int) -> list:
    """N users with something in every digest section, written in bulk."""
    from django.contrib.auth.hashers import make_password

    from kizuna.activities.models import Activity
    from kizuna.automation.models import Notification
    from kizuna.customers.models import Company, Contact
    from kizuna.iam.models import Team, User
    from kizuna.sales.models import Deal, Stage

    team, _created = Team.objects.get_or_create(name="digest-bench")
    password = make_password(None)
    languages = ["ja", "ja", "ko", "en"]
    User.objects.bulk_create(
        [
            User(
                username=f"digest{i}",
                display_name=f"担当{i}",
                email=f"digest{i}@example.jp",
                language=languages[i % 4],
                timezone="Asia/Tokyo",
                team=team,
                password=password,
            )
            for i in range(users)
        ],
        batch_size=1000,
    )
    people = list(User.objects.filter(username__startswith="digest").order_by("pk"))
    Company.objects.bulk_create(
        [Company(name=f"株式会社ダイジェスト{u.pk}", owner=u, team=team, path="/") for u in people],
        batch_size=1000,
    )
    companies = {c.owner_id: c for c in Company.objects.filter(team=team)}
    friday = datetime.date(2026, 3, 6)
    contacts = []
    for u in people:
        for due, action in (
            (friday, "見積書を送る"),
            (friday, "電話する"),
            (datetime.date(2026, 3, 10), "来週の件"),
        ):
            contacts.append(
                Contact(
                    family_name="佐藤",
                    given_name=str(u.pk),
                    owner=u,
                    team=team,
                    company=companies[u.pk],
                    next_action=action,
                    next_action_due=due,
                )
            )
    Contact.objects.bulk_create(contacts, batch_size=2000)
    Activity.objects.bulk_create(
        [
            Activity(
                kind=Activity.Kind.TASK,
                subject="請求書の確認",
                owner=u,
                team=team,
                assignee=u,
                due_date=datetime.date(2026, 3, 2),
                company=companies[u.pk],
                occurred_at=NINE_IN_TOKYO,
            )
            for u in people
        ],
        batch_size=2000,
    )
    stage = Stage.objects.filter(outcome="open").order_by("pk").first()
    if stage is not None:
        old = NINE_IN_TOKYO - datetime.timedelta(days=120)
        Deal.objects.bulk_create(
            [
                Deal(
                    name=f"保守契約{u.pk}",
                    company=companies[u.pk],
                    owner=u,
                    team=team,
                    pipeline_id=stage.pipeline_id,
                    stage=stage,
                    amount=1000,
                    last_touched_at=old,
                )
                for u in people
            ],
            batch_size=2000,
        )
    Notification.objects.bulk_create(
        [Notification(recipient=u, kind="bench", text="新しいお知らせ", url="/") for u in people],
        batch_size=2000,
    )
    Notification.objects.filter(kind="bench").update(created_at=NINE_IN_TOKYO)
    return people


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_smtp_sink() -> tuple[subprocess.Popen, int]:
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return proc, port


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux), 0 elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(users: int) -> Result:
    import time_machine
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kizuna.mail import digest

    t0 = time.perf_counter()
    people = seed(users)
    seed_s = time.perf_counter() - t0
    proc, port = start_smtp_sink()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        with (
            time_machine.travel(NINE_IN_TOKYO, tick=True),
            CaptureQueriesContext(connection) as queries,
        ):
            t0, c0 = time.perf_counter(), time.process_time()
            sent = digest.send_digests(people)
            total_s = time.perf_counter() - t0
            cpu_s = time.process_time() - c0
        sink_cpu_s = _cpu_seconds(proc.pid)
    finally:
        proc.terminate()
        proc.wait()
    load = os.getloadavg()[0]
    return Result(
        connection.vendor, users, sent, seed_s, total_s, cpu_s, sink_cpu_s, len(queries), load
    )


def report(result: Result) -> str:
    verdict = "met" if result.users < 10000 or result.total_s < TARGET_S else "NOT met"
    return "\n".join(
        [
            f"# Daily digest benchmark ({result.vendor})",
            "",
            f"Python {platform.python_version()}, {platform.machine()}, "
            f"{result.vendor}; SMTP: local aiosmtpd sink in its own process.",
            "",
            "| users | digests sent | seconds | CPU s (Kizuna) | CPU s (SMTP sink) | digests/s "
            "| SQL queries | target < 60 s for 10,000 |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
            f"| {result.users:,} | {result.sent:,} | {result.total_s:.1f} | {result.cpu_s:.1f} "
            f"| {result.sink_cpu_s:.1f} | {result.per_s:,.0f} | {result.queries} | {verdict} |",
            "",
            f"Seeding took {result.seed_s:.1f} s (not counted). Load average at the end: "
            f"{result.load:.1f} on {os.cpu_count()} cores (the SMTP sink shares them).",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=10000)
    parser.add_argument("--database-url")
    args = parser.parse_args(argv)
    foundation = siblings.load("foundation")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    cleanup = foundation.configure(args.database_url)
    try:
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
        result = run(args.users)
        text = report(result)
        print(text)
        RESULTS_DIR.mkdir(exist_ok=True)
        (RESULTS_DIR / f"digest-{result.vendor}.md").write_text(text)
    finally:
        foundation.teardown(cleanup)


if __name__ == "__main__":
    main()
