"""Background jobs: the job log, retries with backoff, the admin page, real consumers."""

import datetime
import threading
import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from huey import signals as S
from huey.storage import RedisStorage, SqliteStorage

from kizuna.automation import jobs, services
from kizuna.automation.models import JobRun
from kizuna.customers.models import Company
from kizuna.customers.services import company_create

calls: dict[str, int] = {}


@jobs.task(retries=0)
def add_company(name: str, owner_id: int) -> None:
    from kizuna.iam.models import User

    if not Company.objects.filter(name=name).exists():
        company_create(actor=User.objects.get(pk=owner_id), name=name)


@jobs.task(retries=0)
def flaky(key: str, fail_times: int) -> None:
    calls[key] = calls.get(key, 0) + 1
    if calls[key] <= fail_times:
        raise RuntimeError(f"attempt {calls[key]} failed")


@jobs.task(retries=2, retry_delay=0)
def flaky_with_retries(key: str, fail_times: int) -> None:
    flaky.call_local(key, fail_times)


@jobs.task(retries=3, retry_delay=10, retry_backoff=2)
def always_fails() -> None:
    raise ValueError("the endpoint is down")


def run_of(name: str) -> JobRun:
    return JobRun.objects.get(name__endswith=name)


@pytest.mark.django_db
def test_a_task_that_succeeds_is_logged(org):
    add_company("株式会社ジョブ", org.rep.pk)
    assert Company.objects.filter(name="株式会社ジョブ").count() == 1
    run = run_of("add_company")
    assert run.status == JobRun.Status.SUCCEEDED
    assert run.attempts == 1
    assert "株式会社ジョブ" in run.arguments
    assert run.started_at and run.finished_at and run.enqueued_at


@pytest.mark.django_db
def test_running_a_task_twice_does_no_harm(org):
    add_company("株式会社二度", org.rep.pk)
    add_company("株式会社二度", org.rep.pk)
    assert Company.objects.filter(name="株式会社二度").count() == 1


@pytest.mark.django_db
def test_a_failure_is_logged_with_its_error_and_can_be_retried(org):
    key = uuid.uuid4().hex
    flaky(key, 1)
    run = run_of("flaky")
    assert run.status == JobRun.Status.FAILED
    assert run.error == "RuntimeError: attempt 1 failed"
    assert "Traceback" in run.traceback
    assert run.attempts == 1

    services.job_retry(actor=org.admin, job=run)
    run.refresh_from_db()
    # Queued on commit; the test transaction does not commit, so run it here.
    assert run.status == JobRun.Status.QUEUED
    jobs.requeue(run.payload)
    run.refresh_from_db()
    assert run.status == JobRun.Status.SUCCEEDED
    assert run.attempts == 2
    assert calls[key] == 2


@pytest.mark.django_db
def test_only_admins_retry_and_only_failed_jobs(org):
    add_company("株式会社成功", org.rep.pk)
    run = run_of("add_company")
    with pytest.raises(PermissionDenied):
        services.job_retry(actor=org.manager, job=run)
    with pytest.raises(ValidationError):
        services.job_retry(actor=org.admin, job=run)
    run.refresh_from_db()
    assert run.status == JobRun.Status.SUCCEEDED


@pytest.mark.django_db
def test_retries_count_attempts_until_success():
    key = uuid.uuid4().hex
    flaky_with_retries(key, 2)
    run = run_of("flaky_with_retries")
    assert run.status == JobRun.Status.SUCCEEDED
    assert run.attempts == 3


@pytest.mark.django_db
def test_retries_run_out_and_the_job_fails():
    key = uuid.uuid4().hex
    flaky_with_retries(key, 5)
    run = run_of("flaky_with_retries")
    assert run.status == JobRun.Status.FAILED
    assert run.attempts == 3
    assert run.retries_left == 0


@pytest.mark.django_db
def test_retries_back_off_exponentially():
    jobs.huey.storage.flush_schedule()
    before = datetime.datetime.now()
    always_fails()
    run = run_of("always_fails")
    assert run.status == JobRun.Status.RETRYING
    assert run.retries_left == 2
    (scheduled,) = jobs.huey.scheduled()
    # First retry after 10 s; the next one will wait twice as long.
    assert scheduled.retry_delay == 20
    assert scheduled.retries == 2
    wait = (scheduled.eta - before).total_seconds()
    assert 9 <= wait <= 11
    jobs.huey.storage.flush_schedule()


@pytest.mark.django_db
def test_enqueue_on_commit_runs_only_after_commit(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        jobs.enqueue_on_commit(add_company, "株式会社後で", org.rep.pk)
    assert not Company.objects.filter(name="株式会社後で").exists()
    callbacks[0]()
    assert Company.objects.filter(name="株式会社後で").exists()


@pytest.mark.django_db
def test_the_purge_keeps_failures_and_recent_runs(org):
    add_company("株式会社古い", org.rep.pk)
    flaky(uuid.uuid4().hex, 1)
    JobRun.objects.update(updated_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    add_company("株式会社新しい", org.rep.pk)
    assert services.job_runs_purge(older_than=datetime.timedelta(days=7)) == 1
    assert sorted(JobRun.objects.values_list("status", flat=True)) == ["failed", "succeeded"]


@pytest.mark.django_db
def test_admin_page_lists_failed_jobs_and_retries_them(client, org):
    flaky(uuid.uuid4().hex, 1)
    run = run_of("flaky")
    client.force_login(org.admin)
    page = client.get("/settings/jobs/")
    assert page.status_code == 200
    assert "RuntimeError: attempt 1 failed" in page.content.decode()
    detail = client.get(f"/settings/jobs/{run.pk}/")
    assert "Traceback" in detail.content.decode()
    response = client.post(f"/settings/jobs/{run.pk}/retry/")
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == JobRun.Status.QUEUED
    assert client.get("/settings/jobs/?status=queued").content.decode().count("flaky") >= 1


@pytest.mark.django_db
def test_admin_page_is_for_admins_only(client, org):
    flaky(uuid.uuid4().hex, 1)
    run = run_of("flaky")
    client.force_login(org.manager)
    assert client.get("/settings/jobs/").status_code == 403
    assert client.post(f"/settings/jobs/{run.pk}/retry/").status_code == 403
    run.refresh_from_db()
    assert run.status == JobRun.Status.FAILED


# -- real consumers ------------------------------------------------------------


@pytest.fixture(params=["sqlite", "redis"])
def real_queue(request, tmp_path):
    """The app's huey on real storage; yields a function that consumes it.

    Tasks are queued before the consumer starts and read back after it stops:
    the test database is SQLite in memory, whose shared cache does not let two
    threads write at once.
    """
    huey = jobs.huey
    name = f"kizuna-test-{uuid.uuid4().hex[:8]}"
    if request.param == "redis":
        storage = RedisStorage(name, url="redis://127.0.0.1:6379/0")
        try:
            storage.conn.ping()
        except Exception:  # pragma: no cover - CI starts Redis
            pytest.fail("the local Redis (127.0.0.1:6379) is not running")
    else:
        storage = SqliteStorage(name, filename=str(tmp_path / "jobs.sqlite3"))
    huey.immediate = False
    huey.storage = storage

    def consume(expected: int) -> None:
        done = threading.Semaphore(0)

        def finished(signal, task, *args):
            if signal == S.SIGNAL_COMPLETE or (signal == S.SIGNAL_ERROR and not task.retries):
                done.release()

        huey.signal()(finished)
        consumer = jobs.start_embedded_consumer(workers=1, periodic=False)
        try:
            for _ in range(expected):
                assert done.acquire(timeout=30), "the consumer did not run the task"
        finally:
            consumer.stop(graceful=True)
            huey.disconnect_signal(finished)

    yield consume
    storage.flush_all()
    huey.immediate = True


@pytest.mark.django_db(transaction=True)
def test_a_real_consumer_runs_queued_tasks(org, real_queue):
    add_company("株式会社キュー", org.rep.pk)
    flaky(uuid.uuid4().hex, 1)
    assert set(JobRun.objects.values_list("status", flat=True)) == {JobRun.Status.QUEUED}
    real_queue(2)
    assert Company.objects.filter(name="株式会社キュー").exists()
    assert run_of("add_company").status == JobRun.Status.SUCCEEDED
    assert run_of("add_company").attempts == 1
    assert run_of("flaky").status == JobRun.Status.FAILED
    assert run_of("flaky").error == "RuntimeError: attempt 1 failed"
