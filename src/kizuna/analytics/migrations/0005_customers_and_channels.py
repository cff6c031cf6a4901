from django.db import migrations, models


def fill(apps, schema_editor):
    # The summaries of records that exist already. ``summary.rebuild`` is the
    # one definition of what a record contributes (the services' hooks use it
    # too); it reads only columns that exist at this point.
    models_ = [
        apps.get_model(*label.split("."))
        for label in ("sales.Deal", "customers.Lead", "activities.Activity")
    ]
    if not any(m.objects.exists() for m in models_):
        return
    from kizuna.analytics import summary

    summary.rebuild()


class Migration(migrations.Migration):
    dependencies = [("analytics", "0004_fill_summary_tables")]

    operations = [
        migrations.CreateModel(
            name="CustomerMonthly",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("month", models.DateField()),
                ("company_id", models.IntegerField()),
                ("owner_id", models.IntegerField()),
                ("team_id", models.IntegerField()),
                ("count", models.BigIntegerField(default=0)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("month", "company_id", "owner_id", "team_id"),
                        name="customermonthly_key",
                    )
                ],
            },
        ),
        migrations.RemoveConstraint(model_name="leadmonthly", name="leadmonthly_key"),
        migrations.AddField(
            model_name="leadmonthly",
            name="channel",
            field=models.CharField(default="", max_length=20),
        ),
        migrations.AddField(
            model_name="leadmonthly",
            name="won",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddConstraint(
            model_name="leadmonthly",
            constraint=models.UniqueConstraint(
                fields=("month", "owner_id", "team_id", "qualified", "channel"),
                name="leadmonthly_key",
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
