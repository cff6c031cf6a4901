# Covering indexes for the report builder's scans of all deals (issue #6).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('sales', '0005_dashboard_indexes'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='deal',
            index=models.Index(fields=['owner', 'stage', 'currency', 'amount', 'team'], name='deal_report_owner'),
        ),
        migrations.AddIndex(
            model_name='deal',
            index=models.Index(fields=['created_at', 'status', 'currency', 'amount'], name='deal_report_created'),
        ),
    ]
