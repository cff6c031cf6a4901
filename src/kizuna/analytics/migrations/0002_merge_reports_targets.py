# Joins the two first migrations of analytics: targets (dashboards) and reports.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0001_reports"),
        ("analytics", "0001_targets"),
    ]

    operations = []
