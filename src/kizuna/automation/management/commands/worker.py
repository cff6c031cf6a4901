"""Consume background jobs: `kizuna worker` (any number, on any machine)."""

import logging

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from huey.consumer_options import ConsumerConfig

from kizuna.automation.jobs import huey


class Command(BaseCommand):
    help = "Run a background job consumer (huey) until Ctrl+C or SIGTERM."

    def add_arguments(self, parser):
        parser.add_argument(
            "--workers", type=int, default=settings.KIZUNA_JOBS_WORKERS, help="Worker threads."
        )
        parser.add_argument(
            "--no-periodic",
            action="store_true",
            help="Do not enqueue periodic tasks from this worker.",
        )

    def handle(self, *args, workers: int, no_periodic: bool, **options):
        if huey.immediate:
            raise CommandError("KIZUNA_JOBS_IMMEDIATE is set: jobs run inline, not in a worker.")
        if workers < 1:
            raise CommandError("--workers must be at least 1.")
        config = ConsumerConfig(
            workers=workers, worker_type="thread", periodic=not no_periodic, max_delay=2.0
        )
        config.validate()
        log = logging.getLogger("huey")
        if not log.handlers:
            config.setup_logger(log)
        storage = "Redis" if settings.REDIS_URL else "SQLite"
        self.stdout.write(f"Kizuna worker: {workers} thread(s) on {storage}. Ctrl+C stops.")
        huey.create_consumer(**config.values).run()
