"""Import benchmark: a Shift_JIS CSV of contacts against a large database.

    .venv/bin/python benchmarks/imports.py [--database-url URL]
        [--existing 500000 --rows 100000] [--keep DIR]

Seeds ``--existing`` contacts (with companies, e-mails and phones) with the
foundation benchmark's fast writer, writes a CP932 CSV of ``--rows``
business cards (a tenth are existing people with the same e-mail and a new
title, a twentieth existing people with another e-mail, the rest new people
at existing or new companies), then times the import end to end as the job
runs it: upload (encoding detection, header, proposed mapping), the preview
(read, clean, in-file collapse, exact keys, the 名寄せ engine) and the run
(chunked bulk writes with the undo log). The target (issue #4) is >= 10,000
rows/s end to end on SQLite. As a baseline the same run times a plain
Django ``bulk_create`` of the same rows as ``Contact`` objects (names only:
no matching, e-mails, phones, search index or undo log), rolled back.
Finally it times the undo of the whole import.

Results go to stdout and to benchmarks/results/imports-<vendor>.md.
"""

import argparse
import csv
import io
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import siblings  # noqa: E402

RESULTS_DIR = Path(__file__).resolve().parent / "results"
# (kanji, reading) added to a demo given name: 翔太 + 郎 = 翔太郎 (ショウタロウ).
GIVEN_TAIL = [
    ("一", "イチ"), ("二", "ジ"), ("三", "ゾウ"), ("美", "ミ"), ("香", "カ"), ("介", "スケ"),
    ("也", "ヤ"), ("人", "ト"), ("郎", "ロウ"), ("男", "オ"), ("雄", "オ"), ("治", "ジ"),
    ("彦", "ヒコ"), ("樹", "キ"), ("菜", "ナ"), ("乃", "ノ"), ("恵", "エ"), ("代", "ヨ"),
    ("枝", "エ"), ("子", "コ"), ("平", "ヘイ"), ("吾", "ゴ"), ("朗", "ロウ"), ("馬", "マ"),
]  # fmt: skip
HEADER = [
    "会社名",
    "部署名",
    "役職",
    "姓",
    "名",
    "姓(カナ)",
    "名(カナ)",
    "メールアドレス",
    "電話番号",
    "携帯電話",
    "郵便番号",
    "住所",
    "名刺交換日",
]


def make_csv(rows: int, seed: int = 11) -> tuple[bytes, dict[str, int]]:
    """Business cards as a CP932 CSV; returns the bytes and what they contain."""
    from kizuna.customers.models import Company, Contact, ContactEmail
    from kizuna.demo import names as demo_names

    rng = random.Random(seed)
    family = demo_names.JP_FAMILY
    given = demo_names.JP_GIVEN_MALE + demo_names.JP_GIVEN_FEMALE
    companies = list(Company.objects.order_by("?").values_list("name", flat=True)[:2000])
    existing = list(
        ContactEmail.objects.order_by("?").values_list("contact_id", "email")[
            : rows // 10 + rows // 20
        ]
    )
    contacts = {
        c.pk: c
        for c in Contact.objects.filter(pk__in=[e[0] for e in existing]).select_related("company")
    }
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    mix = {"same_email": 0, "other_email": 0, "new": 0}
    for i in range(rows):
        fam, giv = rng.choice(family), rng.choice(given)
        company = (
            rng.choice(companies) if companies and rng.random() < 0.6 else f"新規商事{i % 5000}"
        )
        email = f"user{i}@example{i % 997}.co.jp"
        title = "部長"
        last = ""
        if i < len(existing) and existing[i][0] in contacts:
            person = contacts[existing[i][0]]
            kind = "same_email" if i < rows // 10 else "other_email"
            mix[kind] += 1
            names = (person.family_name, person.given_name)
            readings = (person.family_name_reading, person.given_name_reading)
            company = person.company.name if person.company else company
            if kind == "same_email":
                email = existing[i][1]
                title = "課長"
            last = "090" + f"{rng.randrange(10**8):08d}"
        else:
            mix["new"] += 1
            # Real lists have far more given names than the demo's 60: a
            # second name part makes most people new, as on a trade-show list.
            extra = rng.choice(GIVEN_TAIL) if rng.random() < 0.9 else ("", "")
            names = (fam[0], giv[0] + extra[0])
            readings = (fam[1], giv[1] + extra[1])
        writer.writerow(
            [
                company,
                "営業部",
                title,
                *names,
                *readings,
                email,
                f"03-{rng.randrange(10000):04d}-{rng.randrange(10000):04d}",
                last,
                "100-0001",
                "東京都千代田区千代田1-1",
                "令和8年1月2日",
            ]
        )
    return buffer.getvalue().encode("cp932", errors="replace"), mix


def baseline(data: bytes, owner) -> float:
    """A plain bulk_create of the same rows as contacts; rolled back."""
    from django.db import transaction

    from kizuna.customers.models import Contact

    started = time.perf_counter()
    with transaction.atomic():
        reader = csv.reader(io.StringIO(data.decode("cp932")))
        next(reader)
        objects = [
            Contact(
                family_name=r[3],
                given_name=r[4],
                family_name_reading=r[5],
                given_name_reading=r[6],
                title=r[2],
                department=r[1],
                owner_id=owner.pk,
                team_id=owner.team_id,
            )
            for r in reader
        ]
        Contact.objects.bulk_create(objects, batch_size=1000)
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed


class Stopwatch:
    """Adds up the seconds spent in some functions while the import runs."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self._patched: list[tuple[object, str, object]] = []

    def wrap(self, owner, name: str, label: str) -> None:
        descriptor = owner.__dict__[name]
        original = getattr(owner, name)  # a classmethod comes bound to its class
        seconds = self.seconds
        seconds.setdefault(label, 0.0)

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                seconds[label] += time.perf_counter() - started

        self._patched.append((owner, name, descriptor))
        setattr(owner, name, staticmethod(timed) if isinstance(descriptor, classmethod) else timed)

    def restore(self) -> None:
        for owner, name, original in reversed(self._patched):
            setattr(owner, name, original)
        self._patched.clear()


def run_import(data: bytes, actor) -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from kizuna.dedup import lookup
    from kizuna.imports import analysis, bulk, services, writing
    from kizuna.imports.models import ImportBatch

    watch = Stopwatch()
    # The 名寄せ lookup (another part of the work): loading the existing
    # records and matching the rows, apart, so that its share is known.
    watch.wrap(lookup.Matcher, "load", "lookup load")
    watch.wrap(lookup.Matcher, "match", "lookup match")
    watch.wrap(analysis, "read_rows", "read")
    watch.wrap(analysis, "clean", "clean")
    watch.wrap(analysis, "_collapse_in_file", "in-file duplicates")
    watch.wrap(analysis, "_resolve_companies", "companies by key")
    watch.wrap(analysis, "_exact_contacts", "contacts by e-mail")
    watch.wrap(analysis, "_check_targets", "update checks")
    watch.wrap(writing, "write_contacts", "contacts")
    watch.wrap(writing, "_companies_for", "new companies")
    watch.wrap(writing, "_update_contacts", "contact updates")
    watch.wrap(writing, "_queue_reviews", "review queue")
    watch.wrap(bulk, "write_tuples", "inserts")
    watch.wrap(bulk, "update_rows", "updates")
    writers = dict(writing.WRITERS)
    writing.WRITERS["contact"] = writing.write_contacts  # the timed one
    timings: dict = {}
    try:
        started = time.perf_counter()
        batch = services.batch_upload(
            actor=actor,
            entity="contact",
            upload=SimpleUploadedFile("bench.csv", data, content_type="text/csv"),
        )
        timings["upload"] = time.perf_counter() - started
        t = time.perf_counter()
        ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.ANALYSING)
        services.analyse_now(batch.pk)
        timings["preview"] = time.perf_counter() - t
        preview_parts = dict(watch.seconds)
        batch.refresh_from_db()
        timings["encoding"] = batch.encoding
        timings["counts"] = dict(batch.counts)
        t = time.perf_counter()
        ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.RUNNING)
        services.run_now(batch.pk)
        timings["run"] = time.perf_counter() - t
        timings["total"] = time.perf_counter() - started
    finally:
        watch.restore()
        writing.WRITERS.update(writers)
    run_parts = {k: v - preview_parts.get(k, 0.0) for k, v in watch.seconds.items()}
    # read_rows is a generator: the time spent in it is the CSV reading
    # between the chunks, not measurable by wrapping; leave it out.
    timings["preview_parts"] = {
        k: v for k, v in preview_parts.items() if v > 0.0005 and k != "read"
    }
    timings["run_parts"] = {k: v for k, v in run_parts.items() if v > 0.0005 and k != "read"}
    timings["lookup"] = preview_parts["lookup load"] + preview_parts["lookup match"]
    batch.refresh_from_db()
    timings["status"] = batch.status
    t = time.perf_counter()
    services.batch_undo(actor=actor, batch=batch, force=True)
    timings["undo"] = time.perf_counter() - t
    return timings


def report(vendor: str, sizes: dict, seed_seconds: float, base: float, t: dict) -> str:
    rows = sizes["rows"]
    rate = rows / t["total"]
    base_rate = rows / base
    lookup = t["lookup"]
    without = t["total"] - lookup

    def parts(values: dict) -> str:
        return ", ".join(f"{k} {v:.2f} s" for k, v in values.items())

    lines = [
        f"# Import benchmark ({vendor})",
        "",
        f"Machine: {platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}, {os.cpu_count()} cores, load average before the "
        f"import {sizes['load']}. Command: `python benchmarks/imports.py "
        f"--existing {sizes['existing']} --rows {rows}`"
        + (" --database-url postgresql://…" if vendor == "postgresql" else ""),
        "",
        f"- existing contacts: {sizes['existing']:,}"
        + (f" (seeded in {seed_seconds:.1f} s)" if seed_seconds else " (seeded by an earlier run)"),
        f"- imported rows: {rows:,} (CP932 CSV, {sizes['bytes'] / 1e6:.1f} MB; "
        f"mix {sizes['mix']}); detected encoding {t['encoding']}",
        f"- preview outcome: {t['counts']}; final status {t['status']}",
        "",
        "| step | seconds | rows/s |",
        "| --- | ---: | ---: |",
        f"| upload (detect, header, mapping) | {t['upload']:.2f} | |",
        f"| preview (read, clean, match) | {t['preview']:.2f} | {rows / t['preview']:,.0f} |",
        f"| run (bulk writes + undo log) | {t['run']:.2f} | {rows / t['run']:,.0f} |",
        f"| **end to end** | **{t['total']:.2f}** | **{rate:,.0f}** |",
        f"| of which the 名寄せ lookup (`dedup.lookup` load + match) | {lookup:.2f} | |",
        f"| end to end without the lookup | {without:.2f} | {rows / without:,.0f} |",
        f"| plain `bulk_create` of the same rows | {base:.2f} | {base_rate:,.0f} |",
        f"| undo of the whole import | {t['undo']:.2f} | |",
        "",
        f"End to end is {base / t['total']:.2f}× the speed of the plain bulk_create "
        f"({base / without:.2f}× without the lookup); target >= 10,000 rows/s end to end: "
        f"{'met' if rate >= 10_000 else 'NOT met'}.",
        "",
        f"- preview parts: {parts(t['preview_parts'])}",
        f"- run parts: {parts(t['run_parts'])}",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--existing", type=int, default=500_000)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--no-write", action="store_true", help="do not write results/")
    parser.add_argument(
        "--keep",
        metavar="DIR",
        default="",
        help="keep the seeded database (SQLite: in DIR; PostgreSQL: the database) and "
        "reuse it when run again with the same sizes: only the import is measured again",
    )
    args = parser.parse_args(argv)
    foundation = siblings.load("foundation")
    reuse = bool(args.keep)
    if args.keep and args.database_url:
        _create_database(args.database_url)
    if args.keep and not args.database_url:
        Path(args.keep).mkdir(parents=True, exist_ok=True)
    cleanup = foundation.configure(args.database_url or None, reuse_dir=args.keep or None)
    if args.keep and not args.database_url:
        cleanup["scratch_dir"] = False
    try:
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", interactive=False, verbosity=0)
        with tempfile.TemporaryDirectory() as media:
            from django.conf import settings

            settings.MEDIA_ROOT = media
            text = run(args.existing, args.rows, connection.vendor, reuse=reuse)
        if not args.no_write:
            RESULTS_DIR.mkdir(exist_ok=True)
            (RESULTS_DIR / f"imports-{connection.vendor}.md").write_text(text)
        print(text)
        return text
    finally:
        foundation.teardown(cleanup, keep=bool(args.keep))


def _create_database(url: str) -> None:
    """The PostgreSQL database of ``--keep``, created the first time."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    parts = urlsplit(url)
    name = parts.path.strip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def run(existing: int, rows: int, vendor: str, reuse: bool = False) -> str:
    from kizuna.customers.models import Contact

    foundation = siblings.load("foundation")
    started = time.perf_counter()
    if reuse and Contact.objects.count() >= existing:
        print(f"Reusing the {Contact.objects.count():,} contacts seeded before …", flush=True)
        actor = foundation.kept_org().admin
        seed_seconds = 0.0
    else:
        print(f"Seeding {existing:,} contacts on {vendor} …", flush=True)
        result = foundation.seed(
            companies=max(existing // 5, 10),
            contacts=existing,
            activities=0,
            leads=0,
            teams=5,
            users=20,
            baseline_rows=0,
        )
        seed_seconds = time.perf_counter() - started
        actor = result.org.admin
    data, mix = make_csv(rows)
    print(f"Baseline bulk_create of {rows:,} rows …", flush=True)
    base = baseline(data, actor)
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"Importing {rows:,} rows (load average {load}) …", flush=True)
    timings = run_import(data, actor)
    sizes = {
        "existing": existing,
        "rows": rows,
        "bytes": len(data),
        "mix": mix,
        "load": load,
    }
    return report(vendor, sizes, seed_seconds, base, timings)


if __name__ == "__main__":
    main()
