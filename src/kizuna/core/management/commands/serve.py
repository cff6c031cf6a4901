"""Run Kizuna with waitress, a production-grade WSGI server."""

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

    def handle(self, *args, host: str, port: int, threads: int, no_migrate: bool, **options):
        import waitress

        if not no_migrate:
            call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        from kizuna.wsgi import application

        shown = f"[{host}]" if ":" in host else host
        self.stdout.write(self.style.SUCCESS(f"Kizuna is running at http://{shown}:{port}/"))
        self.stdout.write("Press Ctrl+C to stop.")
        waitress.serve(application, host=host, port=port, threads=threads, ident="kizuna")
