"""Every member becomes the holder patient (本人) of their account and every appointment names
it; then the one-active-booking rule moves from the member to the patient.

Written for a big, live table: the holders in one INSERT … SELECT (the ID number is copied as
stored: patients' ID numbers use the members' key purpose), the appointments in batches of
ids, each its own transaction (``atomic = False``), and the index and unique constraint built
``CONCURRENTLY``. A booking made by the previous release while this runs (no patient) is caught
by running this again or by ``members.patients.self_patient``; new code always names one.
"""

from django.db import migrations, models

from medbook.migration_operations import AddConstraintConcurrently, AddIndexConcurrently

BATCH = 20_000


def holders(apps, schema_editor) -> None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO members_patient (member_id, name, relation, id_type, id_number,
                id_number_index, gender, birth_date, phone, guardian_name, guardian_id_number,
                created_at)
            SELECT m.id, m.name, 'self', 'resident', m.national_id, m.national_id_index,
                m.gender, m.birth_date, '', '', '', m.registered_at
            FROM members_member m
            WHERE NOT EXISTS (
                SELECT 1 FROM members_patient p WHERE p.member_id = m.id AND p.relation = 'self'
            )
            """
        )


def link(apps, schema_editor) -> None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT min(id), max(id) FROM appointments_appointment WHERE patient_id IS NULL"
        )
        low, high = cursor.fetchone()
        if low is None:
            return
        for start in range(low, high + 1, BATCH):
            cursor.execute(
                """
                UPDATE appointments_appointment SET patient_id = (
                    SELECT p.id FROM members_patient p
                    WHERE p.member_id = appointments_appointment.member_id
                      AND p.relation = 'self'
                )
                WHERE id >= %s AND id < %s AND patient_id IS NULL
                """,
                [start, start + BATCH],
            )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("appointments", "0009_appointment_patient"),
        ("members", "0013_patients"),
    ]

    operations = [
        migrations.RunPython(holders, migrations.RunPython.noop, elidable=False),
        migrations.RunPython(link, migrations.RunPython.noop, elidable=False),
        AddIndexConcurrently(
            model_name="appointment",
            index=models.Index(fields=["patient", "status"], name="appointment_patient_idx"),
        ),
        AddConstraintConcurrently(
            model_name="appointment",
            constraint=models.UniqueConstraint(
                condition=models.Q(
                    ("status__in", ("pending_payment", "confirmed", "checked_in", "completed"))
                ),
                fields=("patient", "schedule"),
                name="appointment_one_active_per_patient_schedule",
            ),
        ),
        migrations.RemoveConstraint(
            model_name="appointment", name="appointment_one_active_per_member_schedule"
        ),
    ]
