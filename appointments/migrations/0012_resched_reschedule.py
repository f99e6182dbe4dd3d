"""Rescheduling (改约): one row per move of a booking, linking the appointment it ended to the
one that took its place (a new table: nothing existing is locked)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('appointments', '0011_remind_release_reminders'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Reschedule',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('sequence', models.PositiveSmallIntegerField(help_text='1 for the first move of a booking, 2 for the next …', verbose_name='move number')),
                ('for_member', models.BooleanField(default=False, help_text="Staff moved it, past the member's own limits, giving the reason.", verbose_name='by staff for the member')),
                ('reason', models.CharField(blank=True, max_length=200, verbose_name='reason')),
                ('old_fee', models.DecimalField(decimal_places=2, max_digits=8, verbose_name='fee before')),
                ('new_fee', models.DecimalField(decimal_places=2, max_digits=8, verbose_name='fee after')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='moved at')),
                ('by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='moved by')),
                ('from_appointment', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='rescheduled_to', to='appointments.appointment', verbose_name='moved from')),
                ('to_appointment', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='rescheduled_from', to='appointments.appointment', verbose_name='moved to')),
            ],
            options={
                'verbose_name': 'reschedule',
                'verbose_name_plural': 'reschedules',
                'ordering': ['-created_at'],
                'permissions': [('reschedule_for_member', "Can reschedule a member's appointment past their own limits, with a reason")],
                'constraints': [models.CheckConstraint(condition=models.Q(('sequence__gte', 1)), name='reschedule_sequence_gte_1'), models.CheckConstraint(condition=models.Q(('from_appointment', models.F('to_appointment')), _negated=True), name='reschedule_moves_somewhere')],
            },
        ),
    ]
