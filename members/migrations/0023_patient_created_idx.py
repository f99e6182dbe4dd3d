from django.db import migrations, models

from medbook.migration_operations import AddIndexConcurrently


class Migration(migrations.Migration):
    # Admin's list of patients, newest first, reads an index instead of sorting every patient
    # (issue 17: 100k+ patients at the benchmark size).
    atomic = False

    dependencies = [
        ("members", "0022_patient_insurance"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="patient",
            index=models.Index(fields=["created_at", "id"], name="patient_created_idx"),
        ),
    ]
