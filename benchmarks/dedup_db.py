"""名寄せ against the database: lookup (load + match) and the full scan.

    .venv/bin/python benchmarks/dedup_db.py [--database-url URL]
        [--existing 500000 --rows 100000] [--scan --scan-size 1000000]

(a) Lookup: seeds ``--existing`` contacts (with companies, e-mails and
phones, written as tuples with ``executemany``), then times
``Matcher.load("contact")`` and ``Matcher.match`` of ``--rows`` incoming
rows, a fifth of them variants of existing contacts (half-width kana,
another legal form, e-mail case), the rest new people. The target
(issue #4): an import matches 100,000 rows against 500,000 contacts at
>= 10,000 rows/s end to end, so load + match must stay well under 10 s.

(b) ``--scan``: seeds ``--scan-size`` contacts (a few percent duplicates)
and times ``scan_entity("contact")`` (load, blocking, scoring, writing the
review queue). Target: 1,000,000 contacts in < 5 minutes.

Results go to stdout and to benchmarks/results/dedup_db-<vendor>.md.
"""

import argparse
import json
import os
import platform
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import siblings  # noqa: E402

RESULTS_DIR = Path(__file__).resolve().parent / "results"
GIVEN_TAIL = "一二三四五六七八九子美香介也人郎男夫雄治彦樹"
COMPANY_WORDS = "東西南北日光山川海空星森田中新大高明和平安"


def _people(seed: int):
    from kizuna.dedup.testdata import JA_FAMILY, JA_GIVEN

    rng = random.Random(seed)
    return rng, JA_FAMILY, JA_GIVEN


def _half_width(text: str) -> str:
    from kizuna.dedup.testdata import _half_width_katakana

    return _half_width_katakana(text)


def _insert(connection, model, columns: list[str], rows: list[tuple]) -> None:
    table = model._meta.db_table
    sql = (
        f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({", ".join(["%s"] * len(columns))})'
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def seed(*, contacts: int, companies: int, duplicates: float = 0.0, seed_value: int = 1):
    """Contacts with a company, an e-mail and a phone each; returns the people written."""
    from django.db import connection, transaction
    from django.utils import timezone

    from kizuna.customers.models import Company, Contact, ContactEmail, ContactPhone
    from kizuna.iam.models import Team, User

    team, _ = Team.objects.get_or_create(name="bench")
    user, _ = User.objects.get_or_create(username="bench", defaults={"team": team})
    now = timezone.now()
    rng, families, givens = _people(seed_value)
    company_rows = []
    names = []
    for i in range(1, companies + 1):
        name = "".join(rng.choice(COMPANY_WORDS) for _ in range(3)) + f"{i}"
        names.append(name)
        company_rows.append(
            (i, "company", f"/{i}/", f"株式会社{name}", "", name.lower(), "", "", "", "",
             "東京都", "", "", "", "", f"c{i}.example.jp", "", now, now, user.pk, team.pk, 1,
             "{}", "", None, "")
        )  # fmt: skip
    company_columns = [
        "id", "kind", "path", "name", "name_reading", "name_key", "corporate_number",
        "industry", "size", "postal_code", "prefecture", "city", "street", "building",
        "website", "domain", "phone", "created_at", "updated_at", "owner_id", "team_id",
        "version", "custom_field_data", "next_action", "next_action_due", "search_index",
    ]  # fmt: skip
    from kizuna.core.text import company_key

    company_rows = [row[:5] + (company_key(row[3]),) + row[6:] for row in company_rows]
    people = []
    contact_rows, email_rows, phone_rows = [], [], []
    pk = 0
    while pk < contacts:
        pk += 1
        family, family_r, _old = rng.choice(families)
        given, given_r = rng.choice(givens)
        given = given + rng.choice(GIVEN_TAIL)
        company_id = rng.randint(1, companies)
        email = f"p{pk}@c{company_id}.example.jp"
        phone = f"+8190{pk:08d}"
        person = (pk, family, given, family_r, given_r, company_id, email, phone)
        people.append(person)
        contact_rows.append(
            (pk, family, given, family_r, given_r, "", "", company_id, "", now, now, user.pk,
             team.pk, 1, "{}", "", None, "")
        )  # fmt: skip
        email_rows.append((pk, pk, email, "", 0))
        phone_rows.append((pk, pk, phone, "", 0))
        if duplicates and rng.random() < duplicates and pk < contacts:
            # The same person again, written another way.
            pk += 1
            contact_rows.append(
                (pk, _half_width(family_r), _half_width(given_r), "", "", "", "", company_id,
                 "", now, now, user.pk, team.pk, 1, "{}", "", None, "")
            )  # fmt: skip
            email_rows.append((pk, pk, email.upper(), "", 0))
    contact_columns = [
        "id", "family_name", "given_name", "family_name_reading", "given_name_reading",
        "title", "department", "company_id", "notes", "created_at", "updated_at", "owner_id",
        "team_id", "version", "custom_field_data", "next_action", "next_action_due",
        "search_index",
    ]  # fmt: skip
    started = time.perf_counter()
    with transaction.atomic():
        for start in range(0, len(company_rows), 20_000):
            _insert(connection, Company, company_columns, company_rows[start : start + 20_000])
        for start in range(0, len(contact_rows), 20_000):
            _insert(connection, Contact, contact_columns, contact_rows[start : start + 20_000])
            _insert(
                connection,
                ContactEmail,
                ["id", "contact_id", "email", "label", "position"],
                email_rows[start : start + 20_000],
            )
            _insert(
                connection,
                ContactPhone,
                ["id", "contact_id", "number", "label", "position"],
                phone_rows[start : start + 20_000],
            )
    return people, names, time.perf_counter() - started


def incoming(people, names, rows: int, *, seed_value: int = 2) -> list[dict[str, str]]:
    """Import rows: a fifth are existing people written another way, the rest new."""
    rng, families, givens = _people(seed_value)
    out = []
    for i in range(rows):
        if rng.random() < 0.2:
            _pk, family, given, family_r, given_r, company_id, email, phone = rng.choice(people)
            out.append(
                {
                    "full_name": _half_width(f"{family_r} {given_r}"),
                    "company": f"(株){names[company_id - 1]}",
                    "email": email.upper(),
                    "phone": "0" + phone[3:],
                }
            )
        else:
            family, family_r, _old = rng.choice(families)
            given, given_r = rng.choice(givens)
            out.append(
                {
                    "family_name": family,
                    "given_name": given + rng.choice(GIVEN_TAIL),
                    "family_name_reading": family_r,
                    "given_name_reading": given_r,
                    "company": f"株式会社新規{i}",
                    "email": f"new{i}@n{i}.example.com",
                    "phone": f"080{i:08d}",
                }
            )
    return out


def lookup(existing: int, rows: int) -> dict:
    from kizuna.dedup.engine import Band
    from kizuna.dedup.lookup import Matcher

    people, names, seed_seconds = seed(contacts=existing, companies=max(existing // 5, 10))
    data = incoming(people, names, rows)
    started, cpu = time.perf_counter(), time.process_time()
    matcher = Matcher.load("contact")
    load_seconds = time.perf_counter() - started
    load_cpu = time.process_time() - cpu
    started, cpu = time.perf_counter(), time.process_time()
    found = matcher.match(data)
    match_seconds = time.perf_counter() - started
    match_cpu = time.process_time() - cpu
    return {
        # CPU seconds of this process: what the work costs on a quiet core,
        # when other jobs share the machine and inflate the wall clock.
        "load_cpu_seconds": load_cpu,
        "match_cpu_seconds": match_cpu,
        "rows_per_cpu_second": rows / (load_cpu + match_cpu),
        "existing": existing,
        "rows": rows,
        "seed_seconds": seed_seconds,
        "load_seconds": load_seconds,
        "match_seconds": match_seconds,
        "merge": sum(1 for f in found if f and f.band == Band.MERGE),
        "review": sum(1 for f in found if f and f.band == Band.REVIEW),
        "rows_per_second": rows / (load_seconds + match_seconds),
    }


def scan(size: int) -> dict:
    from kizuna.dedup.models import DuplicateCandidate
    from kizuna.dedup.scan import scan_entity

    _people_written, _names, seed_seconds = seed(
        contacts=size, companies=max(size // 5, 10), duplicates=0.03, seed_value=3
    )
    started, cpu = time.perf_counter(), time.process_time()
    run = scan_entity(entity="contact")
    seconds = time.perf_counter() - started
    return {
        "scan_cpu_seconds": time.process_time() - cpu,
        "size": size,
        "seed_seconds": seed_seconds,
        "scan_seconds": seconds,
        "pairs": run.pairs_found,
        "queued": DuplicateCandidate.objects.count(),
    }


def report(vendor: str, look: dict | None, scanned: dict | None) -> str:
    lines = [
        f"# 名寄せ in the database ({vendor})",
        "",
        f"Python {platform.python_version()}, {platform.machine()}, "
        f"{time.strftime('%Y-%m-%d')}, load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores; `benchmarks/dedup_db.py`. Wall seconds, CPU seconds of "
        "the process in brackets.",
        "",
    ]
    if look:
        lines += [
            "## Lookup: incoming rows against existing contacts",
            "",
            "| existing | rows | load s (CPU) | match s (CPU) | rows/s (load + match; CPU) "
            "| merge | review |",
            "|---:|---:|---:|---:|---:|---:|---:|",
            f"| {look['existing']:,} | {look['rows']:,} | {look['load_seconds']:.1f} "
            f"({look['load_cpu_seconds']:.1f}) | {look['match_seconds']:.1f} "
            f"({look['match_cpu_seconds']:.1f}) | {look['rows_per_second']:,.0f} "
            f"({look['rows_per_cpu_second']:,.0f}) | {look['merge']:,} | {look['review']:,} |",
            "",
            "Target: >= 10,000 rows/s end to end for the whole import.",
            "",
        ]
    if scanned:
        lines += [
            "## Full scan",
            "",
            "| contacts | scan s (CPU) | pairs in the merge/review bands | queued |",
            "|---:|---:|---:|---:|",
            f"| {scanned['size']:,} | {scanned['scan_seconds']:.1f} "
            f"({scanned['scan_cpu_seconds']:.1f}) | {scanned['pairs']:,} | {scanned['queued']:,} |",
            "",
            "Target: 1,000,000 contacts in < 300 s.",
            "",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--existing", type=int, default=500_000)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--scan", action="store_true", help="also time the full scan")
    parser.add_argument("--scan-only", action="store_true")
    parser.add_argument("--scan-size", type=int, default=1_000_000)
    parser.add_argument("--no-write", action="store_true", help="do not write the results file")
    args = parser.parse_args(argv)
    foundation = siblings.load("foundation")
    cleanup = foundation.configure(args.database_url)
    try:
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        vendor = connection.vendor
        look = None
        if not args.scan_only:
            look = lookup(args.existing, args.rows)
            print(json.dumps(look, indent=1))
        scanned = None
        if args.scan or args.scan_only:
            from kizuna.customers.models import Company, Contact, ContactEmail, ContactPhone

            # Raw deletes: the ORM's collector cannot take half a million ids at once.
            with connection.cursor() as cursor:
                for model in (ContactEmail, ContactPhone, Contact, Company):
                    cursor.execute(f'DELETE FROM "{model._meta.db_table}"')
            scanned = scan(args.scan_size)
            print(json.dumps(scanned, indent=1))
        text = report(vendor, look, scanned)
        print(text)
        if not args.no_write:
            RESULTS_DIR.mkdir(exist_ok=True)
            (RESULTS_DIR / f"dedup_db-{vendor}.md").write_text(text, encoding="utf-8")
    finally:
        foundation.teardown(cleanup)


if __name__ == "__main__":
    main()
