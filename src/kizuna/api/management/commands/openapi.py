import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError


def schema_json() -> str:
    """The OpenAPI document as sorted, indented JSON, the way docs/openapi.json holds it."""
    from kizuna.api.api import api

    schema = api.get_openapi_schema(path_prefix="/api/v1/")
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class Command(BaseCommand):
    help = "Print the API's OpenAPI document, or check that a committed copy is current."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            metavar="FILE",
            help="Exit with an error when FILE differs from the generated document.",
        )

    def handle(self, *args, **options):
        generated = schema_json()
        if options["check"]:
            path = Path(options["check"])
            try:
                committed = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise CommandError(f"Cannot read {path}: {exc}") from exc
            if committed != generated:
                raise CommandError(
                    f"{path} is out of date; regenerate it with `kizuna openapi > {path}`."
                )
            self.stdout.write(f"{path} is up to date.")
            return
        sys.stdout.write(generated)
