from django.db import migrations

from kizuna.core.search import migration_operation


def install_defaults(apps, schema_editor):
    from kizuna.sales.presets import install_defaults

    install_defaults(
        Pipeline=apps.get_model("sales", "Pipeline"),
        Phase=apps.get_model("sales", "Phase"),
        Stage=apps.get_model("sales", "Stage"),
        LossReason=apps.get_model("sales", "LossReason"),
        HandoffTask=apps.get_model("sales", "HandoffTask"),
    )


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial")]

    operations = [
        migration_operation("sales_deal"),
        migrations.RunPython(install_defaults, migrations.RunPython.noop),
    ]
