"""Run Kizuna with waitress, a production-grade WSGI server."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Apply migrations and serve Kizuna over HTTP (waitress)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument(
            "--no-migrate", action="store_true", help="Do not apply migrations at start."
        )
        parser.add_argument(
            "--jobs",
            type=int,
            default=settings.KIZUNA_JOBS_WORKERS if settings.KIZUNA_JOBS_IN_SERVE else 0,
            help="Background job threads in this process (0: leave jobs to `kizuna worker`).",
        )

    def handle(
        self, *args, host: str, port: int, threads: int, no_migrate: bool, jobs: int, **options
    ):
        import waitress

        if not no_migrate:
            call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        from kizuna.wsgi import application

        consumer = None
        if jobs > 0:
            from kizuna.automation.jobs import huey, start_embedded_consumer

            if not huey.immediate:
                consumer = start_embedded_consumer(workers=jobs)
                self.stdout.write(f"Background jobs: {jobs} thread(s) in this process.")
        shown = f"[{host}]" if ":" in host else host
        self.stdout.write(self.style.SUCCESS(f"Kizuna is running at http://{shown}:{port}/"))
        self.stdout.write("Press Ctrl+C to stop.")
        try:
            waitress.serve(application, host=host, port=port, threads=threads, ident="kizuna")
        finally:
            if consumer is not None:
                consumer.stop(graceful=True)
