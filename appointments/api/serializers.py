"""What the catalogue API answers: departments, doctors, a doctor's sessions with what the
caller can do with each (the availability the doctor's page shows)."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from medbook.api.inputs import ClockTimeField, QuerySerializer

from ..choices import DoctorTitle, ScheduleStatus
from ..selectors.booking import AvailabilityState

MAX_DAYS = 28


class DepartmentSerializer(serializers.Serializer):
    code = serializers.SlugField()
    name = serializers.CharField()
    description = serializers.CharField()
    location = serializers.CharField()


class DoctorSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    title = serializers.ChoiceField(choices=DoctorTitle.choices)
    title_label = serializers.CharField(source="get_title_display")
    department = DepartmentSerializer()
    specialties = serializers.CharField()
    introduction = serializers.CharField()
    registration_fee = serializers.DecimalField(max_digits=8, decimal_places=2)
    next_open = serializers.DateField(
        allow_null=True, help_text=_("The date of the next session with slots left, if any.")
    )


class DoctorFilterSerializer(QuerySerializer):
    department = serializers.SlugField(
        max_length=32,
        required=False,
        allow_blank=True,  # an app's "all departments"
        help_text=_("A department's code."),
    )
    q = serializers.CharField(
        max_length=50,
        required=False,
        allow_blank=True,  # an app's empty search box: every doctor
        help_text=_("Part of a doctor's name, department or specialties."),
    )


class SessionFilterSerializer(QuerySerializer):
    start = serializers.DateField(
        required=False, help_text=_("First day (clinic time); default today.")
    )
    days = serializers.IntegerField(
        min_value=1, max_value=MAX_DAYS, default=14, help_text=_("How many days, 1 to 28.")
    )

    def validate_start(self, value: dt.date) -> dt.date:
        if value.year < 2000 or value.year > 2999:
            raise serializers.ValidationError(_("Enter a date between 2000 and 2999."))
        return value


class AvailabilitySerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=[
            AvailabilityState.BOOKABLE,
            AvailabilityState.FULL,
            AvailabilityState.NOT_OPEN,
            AvailabilityState.SUSPENDED,
            AvailabilityState.PAST,
            AvailabilityState.CLOSED,
        ]
    )
    remaining = serializers.IntegerField()
    capacity = serializers.IntegerField()
    opens_at = serializers.DateTimeField(
        help_text=_("When the caller may book (a member's level may open it earlier).")
    )
    public_opens_at = serializers.DateTimeField()
    can_book = serializers.BooleanField()
    reason_code = serializers.CharField(
        allow_null=True, help_text=_("Why the caller cannot book it now (a refusal's code).")
    )
    reason = serializers.CharField(help_text=_("The same, for people."))


class SlotSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text=_("What a booking sends as its slot."))
    start = ClockTimeField()
    end = ClockTimeField()
    places = serializers.IntegerField(help_text=_("How many places the slot holds in all."))


class SessionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    date = serializers.DateField()
    session = serializers.CharField()
    session_label = serializers.CharField(source="get_session_display")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    minutes_per_visit = serializers.IntegerField()
    slot_minutes = serializers.IntegerField(
        help_text=_("The length of the session's time slots (分时段); 0: not split.")
    )
    slots = SlotSerializer(
        many=True,
        help_text=_(
            "The session's time slots, earliest first (empty when it is not split): book one "
            "with its index."
        ),
    )
    room = serializers.CharField()
    fee = serializers.DecimalField(max_digits=8, decimal_places=2)
    status = serializers.ChoiceField(choices=ScheduleStatus.choices)
    availability = AvailabilitySerializer()
