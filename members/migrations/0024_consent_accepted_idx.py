from django.db import migrations, models

from medbook.migration_operations import AddIndexConcurrently


class Migration(migrations.Migration):
    # Admin's list of consents, newest first, reads an index instead of sorting every consent
    # (issue 17: a few per member, 300k+ at the benchmark size).
    atomic = False

    dependencies = [
        ("members", "0023_patient_created_idx"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="consent",
            index=models.Index(fields=["accepted_at", "id"], name="consent_accepted_idx"),
        ),
    ]
