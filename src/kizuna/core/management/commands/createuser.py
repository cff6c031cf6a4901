from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from kizuna.iam.models import Team
from kizuna.iam.services import user_create


class Command(BaseCommand):
    help = "Create a user (an administrator with --admin)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--password", required=True)
        parser.add_argument("--email", default="")
        parser.add_argument("--name", default="", help="Display name.")
        parser.add_argument("--team", default="", help="Team name (created if missing).")
        parser.add_argument("--language", default="ja", choices=["ja", "ko", "en"])
        parser.add_argument("--admin", action="store_true")

    def handle(self, *args, **o):
        team = Team.objects.get_or_create(name=o["team"])[0] if o["team"] else None
        try:
            user = user_create(
                username=o["username"],
                password=o["password"],
                email=o["email"],
                display_name=o["name"],
                team=team,
                language=o["language"],
                is_org_admin=o["admin"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(self.style.SUCCESS(f"Created {user.username}."))
