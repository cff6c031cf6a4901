"""Job system benchmark: jobs per second through real huey consumers.

    .venv/bin/python benchmarks/jobs.py [--jobs 2000] [--workers 2]
        [--redis-url redis://127.0.0.1:6379/0]

Kizuna runs on a fresh SQLite database in a temporary KIZUNA_DATA_DIR. For
each queue storage (huey's SQLite file, the embedded default; Redis, the
production queue) the script queues N tasks, then starts a consumer with
``--workers`` threads in this process and times how long it takes to run
them all (the consumer runs while nothing else is queued, as after a burst).

Workloads:
- no-op: a task that does nothing, with the job log (JobRun rows written
  from huey's signals: queued, running, succeeded) and without it;
- notify: a task that puts one notification in a user's centre.

Queueing is timed too (tasks/s handed to the storage, job log included).
Results go to stdout and to benchmarks/results/jobs.md.
"""

import argparse
import os
import platform
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def configure() -> None:
    """A throwaway data dir and SQLite database; Django set up and migrated."""
    os.environ["KIZUNA_DATA_DIR"] = tempfile.mkdtemp(prefix="kizuna-jobs-bench-")
    os.environ.pop("KIZUNA_DATABASE_URL", None)
    os.environ.pop("KIZUNA_REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kizuna.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


@dataclass
class Result:
    storage: str
    workload: str
    jobs: int
    workers: int
    enqueue_per_s: float
    run_per_s: float


def tasks():
    """The benchmark's tasks, registered on Kizuna's huey."""
    from kizuna.automation.jobs import task
    from kizuna.automation.services import notify
    from kizuna.iam.models import User

    @task(retries=0, name="bench_noop")
    def noop(i: int) -> None:
        return None

    @task(retries=0, name="bench_notify")
    def notify_one(user_id: int, i: int) -> None:
        user = User.objects.get(pk=user_id)
        notify(recipients=[user], kind="bench", text="benchmark %(i)s", params={"i": i})

    return noop, notify_one


def run(
    *,
    storage_name: str,
    storage,
    task,
    args,
    jobs: int,
    workers: int,
    job_log: bool = True,
    workload: str = "",
) -> Result:
    from huey import signals as S

    from kizuna.automation import jobs as kjobs

    huey = kjobs.huey
    was_immediate = huey.immediate
    huey.immediate = False
    huey.storage = storage
    if not job_log:
        huey.disconnect_signal(kjobs.record_signal)
    finished = threading.Semaphore(0)

    def done(signal, t, *rest):
        if signal in (S.SIGNAL_COMPLETE, S.SIGNAL_ERROR):
            finished.release()

    huey.signal(S.SIGNAL_COMPLETE, S.SIGNAL_ERROR)(done)
    try:
        started = time.perf_counter()
        for i in range(jobs):
            task(*args(i))
        enqueue_s = time.perf_counter() - started

        started = time.perf_counter()
        consumer = kjobs.start_embedded_consumer(workers=workers, periodic=False)
        try:
            for _ in range(jobs):
                if not finished.acquire(timeout=120):
                    raise RuntimeError("the consumer stopped running tasks")
            run_s = time.perf_counter() - started
        finally:
            consumer.stop(graceful=True)
    finally:
        huey.disconnect_signal(done)
        if not job_log:
            huey.signal()(kjobs.record_signal)
        storage.flush_all()
        huey.immediate = was_immediate
    return Result(
        storage=storage_name,
        workload=workload,
        jobs=jobs,
        workers=workers,
        enqueue_per_s=jobs / enqueue_s,
        run_per_s=jobs / run_s,
    )


def storages(redis_url: str | None):
    from huey.storage import RedisStorage, SqliteStorage

    name = f"kizuna-bench-{uuid.uuid4().hex[:8]}"
    from django.conf import settings

    path = Path(settings.DATA_DIR) / "bench-queue.sqlite3"
    yield "SQLite", SqliteStorage(name, filename=str(path))
    if redis_url:
        storage = RedisStorage(name, url=redis_url)
        try:
            storage.conn.ping()
        except Exception as exc:
            print(f"Redis at {redis_url} not reachable ({exc}); skipped", file=sys.stderr)
        else:
            yield "Redis", storage


def benchmark(*, jobs: int, workers: int, redis_url: str | None) -> list[Result]:
    from kizuna.iam.models import User

    user, _ = User.objects.get_or_create(username="bench", defaults={"language": "ja"})
    noop, notify_one = tasks()
    results = []
    for name, storage in storages(redis_url):
        for workload, task, args, log in (
            ("no-op, with job log", noop, lambda i: (i,), True),
            ("no-op, without job log", noop, lambda i: (i,), False),
            ("notify one user", notify_one, lambda i: (user.pk, i), True),
        ):
            result = run(
                storage_name=name,
                storage=storage,
                task=task,
                args=args,
                jobs=jobs,
                workers=workers,
                job_log=log,
                workload=workload,
            )
            print(
                f"{name:7} {workload:24} queued {result.enqueue_per_s:8.0f}/s"
                f"  ran {result.run_per_s:8.0f}/s",
                flush=True,
            )
            results.append(result)
    return results


def report(results: list[Result], *, jobs: int, workers: int) -> str:
    lines = [
        "# Job system benchmark",
        "",
        f"`benchmarks/jobs.py --jobs {jobs} --workers {workers}` on {platform.node() or 'host'}"
        f" ({os.cpu_count()} cores, Python {platform.python_version()}); Kizuna's database is"
        " SQLite (WAL) in a temporary data dir. N tasks are queued, then one consumer with"
        f" {workers} worker threads runs them all; jobs/s = N / time to run them.",
        "The job log writes three JobRun updates per task (queued, running, succeeded).",
        "",
        "| queue storage | workload | jobs | queued / s | ran / s |",
        "|---|---|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.storage} | {r.workload} | {r.jobs} | {r.enqueue_per_s:,.0f} |"
            f" {r.run_per_s:,.0f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--no-write", action="store_true", help="Do not write results/jobs.md.")
    args = parser.parse_args(argv)
    configure()
    results = benchmark(jobs=args.jobs, workers=args.workers, redis_url=args.redis_url or None)
    text = report(results, jobs=args.jobs, workers=args.workers)
    if not args.no_write:
        RESULTS_DIR.mkdir(exist_ok=True)
        (RESULTS_DIR / "jobs.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
