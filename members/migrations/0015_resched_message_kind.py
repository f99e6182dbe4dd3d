"""A new kind of in-app message, "rescheduled" (choices only: no SQL)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('members', '0014_consent_agreements'),
    ]

    operations = [
        migrations.AlterField(
            model_name='message',
            name='kind',
            field=models.CharField(choices=[('booked', 'Booking'), ('paid', 'Paid'), ('cancelled', 'Cancelled'), ('refunded', 'Refunded'), ('suspended', 'Session cancelled by the clinic'), ('reminder', 'Reminder'), ('level_up', 'Membership level'), ('points', 'Points'), ('no_show', 'Missed appointments'), ('rescheduled', 'Rescheduled')], max_length=16, verbose_name='kind'),
        ),
    ]
