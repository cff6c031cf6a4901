from django.db import migrations

from kizuna.core.search import migration_operation


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_initial")]

    operations = [
        migration_operation("customers_company"),
        migration_operation("customers_contact"),
        migration_operation("customers_lead"),
    ]
