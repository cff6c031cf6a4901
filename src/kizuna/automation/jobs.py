"""Background jobs on huey: the task decorators, the job log and consumers.

Other apps write tasks in their own ``tasks.py`` (found at start-up)::

    from kizuna.automation.jobs import crontab, periodic_task, task

    @task()
    def send_something(pk: int) -> None: ...

    @periodic_task(crontab(minute="0", hour="9"))
    def morning_check() -> None: ...

Tasks may run more than once (retries, a retried failure, two consumers
after a crash), so each must be idempotent.
"""

import logging
import threading
import traceback as tb
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from huey import crontab
from huey import signals as S
from huey.api import PeriodicTask
from huey.consumer import Consumer
from huey.contrib import djhuey

__all__ = [
    "crontab",
    "enqueue_on_commit",
    "huey",
    "periodic_task",
    "start_embedded_consumer",
    "task",
]

logger = logging.getLogger(__name__)
huey = djhuey.HUEY

# Retries wait 30 s, then 60 s, 120 s: transient failures (a locked SQLite
# file, an SMTP server restarting) get time to go away.
DEFAULT_RETRIES = 3
DEFAULT_RETRY_DELAY = 30
DEFAULT_RETRY_BACKOFF = 2.0


def task(
    *,
    retries: int = DEFAULT_RETRIES,
    retry_delay: int = DEFAULT_RETRY_DELAY,
    retry_backoff: float = DEFAULT_RETRY_BACKOFF,
    **kwargs: Any,
) -> Callable:
    """A huey task that closes stale database connections around each run."""
    return djhuey.db_task(
        retries=retries, retry_delay=retry_delay, retry_backoff=retry_backoff, **kwargs
    )


def periodic_task(
    validate_datetime: Callable,
    *,
    retries: int = 0,
    retry_delay: int = DEFAULT_RETRY_DELAY,
    retry_backoff: float = DEFAULT_RETRY_BACKOFF,
    **kwargs: Any,
) -> Callable:
    """A task the consumer runs on a schedule, e.g. ``crontab(minute="*/15")``.

    The schedule is read in the server's TIME_ZONE (Asia/Tokyo by default).
    """
    return djhuey.db_periodic_task(
        validate_datetime,
        retries=retries,
        retry_delay=retry_delay,
        retry_backoff=retry_backoff,
        **kwargs,
    )


def enqueue_on_commit(task_wrapper, *args: Any, **kwargs: Any) -> None:
    """Queue a task once the current transaction commits (never for a rollback)."""
    transaction.on_commit(lambda: task_wrapper(*args, **kwargs))


# -- the job log -------------------------------------------------------------


def _arguments(task) -> str:
    args, kwargs = task.args or (), task.kwargs or {}
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return ", ".join(parts)[:1000]


def _save(task, fields: dict[str, Any], *, create: dict[str, Any] | None = None) -> None:
    """Update the task's JobRun, creating it when this process saw it first.

    Runs in its own savepoint: a failure here is logged and never breaks the
    caller's transaction or the task.
    """
    from kizuna.automation.models import JobRun

    try:
        with transaction.atomic():
            if JobRun.objects.filter(task_id=task.id).update(**fields):
                return
            defaults = {
                "name": task.name,
                "arguments": _arguments(task),
                "periodic": isinstance(task, PeriodicTask),
                "status": JobRun.Status.QUEUED,
                **(create or {}),
            }
            plain = {k: v for k, v in fields.items() if not hasattr(v, "resolve_expression")}
            try:
                with transaction.atomic():
                    JobRun.objects.create(task_id=task.id, **{**defaults, **plain})
                    return
            except IntegrityError:
                pass
            JobRun.objects.filter(task_id=task.id).update(**fields)
    except Exception:
        logger.exception("Could not record job %s (%s)", task.id, task.name)


def _error_text(exc: BaseException | None, fallback: str) -> tuple[str, str]:
    if exc is None:
        return fallback, ""
    text = f"{type(exc).__name__}: {exc}"[:2000]
    return text, "".join(tb.format_exception(type(exc), exc, exc.__traceback__))[-20000:]


def record_signal(signal: str, task, *args: Any) -> None:
    """Receives every huey signal and keeps the task's JobRun up to date."""
    from kizuna.automation.models import JobRun

    now = timezone.now()
    if signal == S.SIGNAL_ENQUEUED and task.name in LOG_FROM_START:
        return
    if signal == S.SIGNAL_ENQUEUED:
        _save(
            task,
            {
                "status": JobRun.Status.QUEUED,
                "enqueued_at": now,
                "retries_left": task.retries,
                "payload": huey.serialize_task(task),
            },
        )
    elif signal == S.SIGNAL_EXECUTING:
        _save(
            task,
            {"status": JobRun.Status.RUNNING, "started_at": now, "attempts": F("attempts") + 1},
            create={"attempts": 1},
        )
    elif signal == S.SIGNAL_COMPLETE:
        _save(
            task,
            {"status": JobRun.Status.SUCCEEDED, "finished_at": now, "retries_left": task.retries},
        )
    elif signal in (S.SIGNAL_ERROR, S.SIGNAL_TIMEOUT, S.SIGNAL_LOCKED, S.SIGNAL_INTERRUPTED):
        exc = args[0] if args and isinstance(args[0], BaseException) else None
        error, trace = _error_text(exc, signal)
        # huey counts retries down after this signal; none left means final.
        final = not task.retries or signal == S.SIGNAL_INTERRUPTED
        fields = {
            "status": JobRun.Status.FAILED if final else JobRun.Status.RETRYING,
            "finished_at": now,
            "error": error,
            "traceback": trace,
            "retries_left": task.retries,
        }
        if final and task.name in LOG_FROM_START:
            fields["payload"] = huey.serialize_task(task)
        _save(task, fields)
    elif signal == S.SIGNAL_RETRYING:
        _save(task, {"status": JobRun.Status.RETRYING, "retries_left": max(task.retries - 1, 0)})
    elif signal in (S.SIGNAL_CANCELED, S.SIGNAL_REVOKED, S.SIGNAL_EXPIRED):
        _save(task, {"status": JobRun.Status.CANCELLED, "finished_at": now, "error": signal})


# Tasks queued on the request path whose JobRun row the consumer creates
# when it starts them, instead of at enqueue: one write less per request
# (the rule jobs, which keep their own run log). A final failure still
# stores the serialised task, so an admin can run it again.
LOG_FROM_START: set[str] = set()

_connected = False


def connect_signals() -> None:
    global _connected
    if not _connected:
        huey.signal()(record_signal)
        _connected = True


def requeue(payload: bytes) -> None:
    """Queue a stored task again under the same id, with its retries reset."""
    job = huey.deserialize_task(bytes(payload))
    job.retries = job.default_retries
    job.retry_delay = job.default_retry_delay
    job.eta = None
    huey.enqueue(job)


# -- consumers ---------------------------------------------------------------


class EmbeddedConsumer(Consumer):
    """A consumer whose threads live inside another process (``kizuna serve``).

    The host process owns the signal handlers; this one only starts and stops
    its worker and scheduler threads.
    """

    def _set_signal_handlers(self) -> None:
        pass


_embedded_lock = threading.Lock()


def start_embedded_consumer(*, workers: int, periodic: bool = True) -> Consumer:
    """Start consumer threads (daemon threads) and return the consumer."""
    with _embedded_lock:
        consumer = EmbeddedConsumer(
            huey, workers=workers, periodic=periodic, worker_type="thread", max_delay=2.0
        )
        consumer.start()
    return consumer
