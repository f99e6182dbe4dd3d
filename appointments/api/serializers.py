"""What the catalogue API answers: departments, doctors, a doctor's sessions with what the
caller can do with each (the availability the doctor's page shows)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from medbook.api.inputs import LOCAL_NAME_HELP, ClockTimeField, QuerySerializer
from members.models import Relation

from ..choices import DoctorTitle, ReminderStatus, ScheduleStatus, WaitlistStatus
from ..selectors.booking import AvailabilityState

MAX_DAYS = 28


class DepartmentSerializer(serializers.Serializer):
    code = serializers.SlugField()
    name = serializers.CharField(source="local_name", help_text=LOCAL_NAME_HELP)
    description = serializers.CharField()
    location = serializers.CharField(source="local_location", help_text=LOCAL_NAME_HELP)


class DoctorSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="local_name", help_text=LOCAL_NAME_HELP)
    title = serializers.ChoiceField(choices=DoctorTitle.choices)
    title_label = serializers.CharField(source="get_title_display")
    department = DepartmentSerializer()
    specialties = serializers.CharField(source="local_specialties", help_text=LOCAL_NAME_HELP)
    introduction = serializers.CharField(source="local_introduction", help_text=LOCAL_NAME_HELP)
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
    room = serializers.CharField(help_text=LOCAL_NAME_HELP)
    fee = serializers.DecimalField(max_digits=8, decimal_places=2)
    status = serializers.ChoiceField(choices=ScheduleStatus.choices)
    availability = AvailabilitySerializer()


# The waitlist (候补) and release reminders (放号提醒): appointments/api/waitlist.py, reminders.py


class DepartmentNameSerializer(serializers.Serializer):
    code = serializers.SlugField()
    name = serializers.CharField(source="local_name", help_text=LOCAL_NAME_HELP)


class DoctorNameSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="local_name", help_text=LOCAL_NAME_HELP)
    title = serializers.ChoiceField(choices=DoctorTitle.choices)
    title_label = serializers.CharField(source="get_title_display")
    department = DepartmentNameSerializer()


class SessionNameSerializer(serializers.Serializer):
    """A session as the member's lists name it."""

    id = serializers.IntegerField()
    date = serializers.DateField()
    session = serializers.CharField()
    session_label = serializers.CharField(source="get_session_display")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    room = serializers.CharField(source="local_room", help_text=LOCAL_NAME_HELP)
    fee = serializers.DecimalField(max_digits=8, decimal_places=2)
    doctor = DoctorNameSerializer()


class PatientNameSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    relation = serializers.ChoiceField(choices=Relation.choices)
    relation_label = serializers.CharField(source="get_relation_display")


class WaitlistJoinSerializer(serializers.Serializer):
    """One sold-out session (``schedule``), or any session of a doctor between two days
    (``doctor``, ``date_from``, ``date_to``)."""

    schedule = serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        required=False,
        help_text=_("A sold-out session to wait for (its id from a doctor's sessions)."),
    )
    doctor = serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        required=False,
        help_text=_("Instead of a session: wait for any session of this doctor in the days."),
    )
    date_from = serializers.DateField(
        required=False, help_text=_("With doctor: the first day (clinic time), today or later.")
    )
    date_to = serializers.DateField(
        required=False,
        help_text=_("With doctor: the last day, at most 14 days on (default: date_from)."),
    )
    patient = serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        required=False,
        help_text=_("Who the place is for: one of the account's patients. Absent: the holder."),
    )

    def validate(self, data: dict) -> dict:
        session, doctor = "schedule" in data, "doctor" in data
        if session == doctor:
            raise serializers.ValidationError(
                _("Send either a session (schedule) or a doctor with the days.")
            )
        if session and ("date_from" in data or "date_to" in data):
            raise serializers.ValidationError(
                {"date_from": [_("The days go with a doctor, not with a session.")]}
            )
        if doctor and "date_from" not in data:
            raise serializers.ValidationError({"date_from": [_("Choose the first day.")]})
        for name in ("date_from", "date_to"):
            if name in data and not 2000 <= data[name].year <= 2999:
                raise serializers.ValidationError(
                    {name: [_("Enter a date between 2000 and 2999.")]}
                )
        if doctor:
            data.setdefault("date_to", data["date_from"])
        return data


class WaitlistOfferSerializer(serializers.Serializer):
    session = SessionNameSerializer(source="offered_schedule")
    offered_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(
        source="offer_expires_at",
        help_text=_("The slot is held until this time: accept before it, or it passes on."),
    )


class WaitlistEntrySerializer(serializers.Serializer):
    """A place on a waitlist; ``position`` 1 is next for a freed slot."""

    id = serializers.IntegerField(source="entry.id")
    status = serializers.ChoiceField(choices=WaitlistStatus.choices, source="entry.status")
    status_label = serializers.CharField(source="entry.get_status_display")
    any_session = serializers.SerializerMethodField(
        help_text=_("True: any session of the doctor from date_from to date_to.")
    )
    doctor = DoctorNameSerializer(source="entry.doctor")
    session = SessionNameSerializer(
        source="entry.schedule",
        allow_null=True,
        help_text=_("The session waited for (null for any session of the doctor)."),
    )
    date_from = serializers.DateField(source="entry.date_from")
    date_to = serializers.DateField(source="entry.date_to")
    patient = PatientNameSerializer(source="entry.patient")
    joined_at = serializers.DateTimeField(source="entry.joined_at")
    position = serializers.IntegerField(
        allow_null=True,
        help_text=_(
            "Where the place stands: 1 is next for a freed slot (null while a slot is offered, "
            "and once closed)."
        ),
    )
    offer = serializers.SerializerMethodField(
        help_text=_("The slot held for the member (status offered), or null.")
    )
    can_accept = serializers.BooleanField(
        help_text=_("A slot is held and not run out: POST …/accept/ books it.")
    )
    appointment = serializers.IntegerField(
        source="entry.appointment_id",
        allow_null=True,
        help_text=_("The appointment booked from the offer (status booked), or null."),
    )
    closed_at = serializers.DateTimeField(source="entry.closed_at", allow_null=True)

    def get_any_session(self, row: Any) -> bool:
        return row.entry.schedule_id is None

    @extend_schema_field(WaitlistOfferSerializer(allow_null=True))
    def get_offer(self, row: Any) -> dict | None:
        if row.entry.status != WaitlistStatus.OFFERED:
            return None
        return WaitlistOfferSerializer(row.entry).data


class WaitlistSerializer(serializers.Serializer):
    open = WaitlistEntrySerializer(
        many=True, help_text=_("Open places: offers first, then by day. A few at most.")
    )
    closed = WaitlistEntrySerializer(many=True, help_text=_("The latest closed places."))


class ReminderInputSerializer(serializers.Serializer):
    schedule = serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        help_text=_("A session not yet open to the member (its id from a doctor's sessions)."),
    )


class ReminderSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="reminder.id")
    status = serializers.ChoiceField(choices=ReminderStatus.choices, source="reminder.status")
    status_label = serializers.CharField(source="reminder.get_status_display")
    session = SessionNameSerializer(source="reminder.schedule")
    due_at = serializers.DateTimeField(
        allow_null=True,
        help_text=_(
            "When the reminder goes out: when booking opens for the member at their level now "
            "(null once closed)."
        ),
    )
    created_at = serializers.DateTimeField(source="reminder.created_at")
    closed_at = serializers.DateTimeField(source="reminder.closed_at", allow_null=True)


class RemindersSerializer(serializers.Serializer):
    waiting = ReminderSerializer(many=True, help_text=_("Waiting reminders, soonest first."))
    closed = ReminderSerializer(many=True, help_text=_("The latest sent or closed ones."))
