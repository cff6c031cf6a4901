from django.db import migrations

from kizuna.core.search import migration_operation


class Migration(migrations.Migration):
    dependencies = [("activities", "0002_initial")]

    operations = [migration_operation("activities_activity")]
