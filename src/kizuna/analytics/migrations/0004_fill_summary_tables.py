from django.db import migrations


def fill(apps, schema_editor):
    # The summaries of records that exist already. ``summary.rebuild`` is the
    # one definition of what a record contributes (the services' hooks use
    # it too); it reads only columns that exist at this point.
    models = [
        apps.get_model(*label.split("."))
        for label in ("sales.Deal", "customers.Lead", "activities.Activity")
    ]
    if not any(m.objects.exists() for m in models):
        return
    from kizuna.analytics import summary

    summary.rebuild()


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0003_summary_tables"),
        ("sales", "0005_dashboard_indexes"),
        ("customers", "0004_dashboard_indexes"),
        ("activities", "0006_dashboard_indexes"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
