"""The clinic day in the API, for staff apps: today's sessions (the desk and clinic admins: all;
a doctor: their own) with their counts and patients, check-in by session and queue number, and
for a queue the login runs (a doctor's own session; clinic admins any) call next and no-show.
Completing a visit awards points, so it is billing's (billing/api/staff.py).

The same selectors, services and permission rules as the staff console's pages
(appointments/staff_views.py): a session or patient of another doctor's queue is a 404, as
there. Staff tokens carry the second factor (medbook.api.authentication); members get a 403.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from medbook.api.inputs import ClockTimeField, QuerySerializer
from medbook.api.permissions import staff_with
from medbook.errors import NotFound
from members.models import Relation

from .. import selectors, services
from ..choices import AppointmentStatus, ScheduleStatus, Session
from ..forms import CheckInLookupForm
from ..models import Appointment

__all__ = ["QUEUE", "StaffAppointmentSerializer", "appointment_row", "staff_appointment_body"]

DESK = "appointments.check_in_appointment"
QUEUE = "appointments.run_queue"


# -- what the staff endpoints answer ---------------------------------------------------------


class StaffAppointmentSerializer(serializers.Serializer):
    """A patient on a staff list (name as the console shows it, number masked), with what this
    login may do with them now."""

    id = serializers.IntegerField()
    schedule_id = serializers.IntegerField()
    queue_number = serializers.IntegerField()
    estimated_time = ClockTimeField(help_text=_("Estimated time, clinic time (HH:MM)."))
    status = serializers.ChoiceField(choices=AppointmentStatus.choices)
    status_label = serializers.CharField()
    patient_name = serializers.CharField(
        help_text=_("Who is seen (就诊人): the account holder or a relative of theirs.")
    )
    patient_relation = serializers.ChoiceField(
        choices=Relation.choices, help_text=_("Who the patient is to the account holder.")
    )
    masked_phone = serializers.CharField(help_text=_("The account's mobile number, masked."))
    checked_in_at = serializers.DateTimeField(allow_null=True)
    called_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    can_check_in = serializers.BooleanField()
    can_complete = serializers.BooleanField()
    can_mark_no_show = serializers.BooleanField()


class SessionCountsSerializer(serializers.Serializer):
    pending_payment = serializers.IntegerField()
    not_arrived = serializers.IntegerField(help_text=_("Confirmed, not checked in yet."))
    waiting = serializers.IntegerField(help_text=_("Checked in, not called yet."))
    with_doctor = serializers.IntegerField(help_text=_("Called, visit not completed yet."))
    completed = serializers.IntegerField()
    no_show = serializers.IntegerField()


class StaffSessionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    date = serializers.DateField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    room = serializers.CharField()
    status = serializers.ChoiceField(choices=ScheduleStatus.choices)
    status_label = serializers.CharField()
    doctor_id = serializers.IntegerField()
    doctor_name = serializers.CharField()
    department_code = serializers.CharField()
    department_name = serializers.CharField()
    capacity = serializers.IntegerField()
    booked = serializers.IntegerField(help_text=_("Slots taken (awaiting payment included)."))
    counts = SessionCountsSerializer()
    calling = serializers.IntegerField(
        allow_null=True, help_text=_("The queue number called last, if any.")
    )
    can_run_queue = serializers.BooleanField(
        help_text=_("This login may call next, complete and mark no-shows here.")
    )
    appointments = StaffAppointmentSerializer(many=True)


class CheckInSerializer(serializers.Serializer):
    schedule = serializers.IntegerField(
        min_value=1, max_value=2**31 - 1, help_text=_("One of today's sessions (its id).")
    )
    number = serializers.IntegerField(
        min_value=1, max_value=32767, help_text=_("The patient's queue number in it.")
    )


class CalledSerializer(serializers.Serializer):
    called = StaffAppointmentSerializer(
        allow_null=True, help_text=_("The patient called now; null when nobody is waiting.")
    )


def appointment_row(appointment: Appointment, actions: Any) -> dict[str, Any]:
    member = appointment.member
    return {
        "id": appointment.pk,
        "schedule_id": appointment.schedule_id,
        "queue_number": appointment.queue_number,
        "estimated_time": appointment.estimated_time,
        "status": appointment.status,
        "status_label": appointment.get_status_display(),
        "patient_name": appointment.patient_name,
        "patient_relation": appointment.patient.relation if appointment.patient_id else "self",
        "masked_phone": member.masked_phone,
        "checked_in_at": appointment.checked_in_at,
        "called_at": appointment.called_at,
        "completed_at": appointment.completed_at,
        "can_check_in": actions.can_check_in,
        "can_complete": actions.can_complete,
        "can_mark_no_show": actions.can_mark_no_show,
    }


def staff_appointment_body(appointment: Appointment, user: Any) -> dict[str, Any]:
    """``appointment`` as answered to ``user`` after an action: with what they may do now."""
    actions = selectors.staff_actions(appointment=appointment, user=user)
    return StaffAppointmentSerializer(appointment_row(appointment, actions)).data


def _counts(appointments: list[Appointment]) -> dict[str, int]:
    status = Counter(a.status for a in appointments)
    checked_in = [a for a in appointments if a.status == AppointmentStatus.CHECKED_IN]
    waiting = sum(1 for a in checked_in if a.called_at is None)
    return {
        "pending_payment": status[AppointmentStatus.PENDING_PAYMENT],
        "not_arrived": status[AppointmentStatus.CONFIRMED],
        "waiting": waiting,
        "with_doctor": len(checked_in) - waiting,
        "completed": status[AppointmentStatus.COMPLETED],
        "no_show": status[AppointmentStatus.NO_SHOW],
    }


def _session(board: selectors.BoardSession, user: Any) -> dict[str, Any]:
    schedule = board.schedule
    appointments = [row.appointment for row in board.rows]
    called = selectors.last_called(appointments)
    return {
        "id": schedule.pk,
        "date": schedule.date,
        "starts_at": schedule.starts_at,
        "ends_at": schedule.ends_at,
        "room": schedule.room,
        "status": schedule.status,
        "status_label": schedule.get_status_display(),
        "doctor_id": schedule.doctor_id,
        "doctor_name": schedule.doctor.name,
        "department_code": schedule.doctor.department.code,
        "department_name": schedule.doctor.department.name,
        "capacity": schedule.capacity,
        "booked": schedule.booked,
        "counts": _counts(appointments),
        "calling": called.queue_number if called else None,
        "can_run_queue": selectors.may_run_queue(user=user, schedule=schedule),
        "appointments": [appointment_row(row.appointment, row.actions) for row in board.rows],
    }


# -- the endpoints ---------------------------------------------------------------------------


class StaffTodayFilterSerializer(QuerySerializer):
    """The today board's filters, as the console's board takes them."""

    department = serializers.SlugField(
        required=False, max_length=32, help_text=_("Only this department (its code).")
    )
    doctor = serializers.IntegerField(
        required=False, min_value=1, max_value=2**31 - 1, help_text=_("Only this doctor (id).")
    )
    session = serializers.ChoiceField(
        choices=Session.choices, required=False, help_text=_("Only the morning or afternoon.")
    )
    status = serializers.ChoiceField(
        choices=[
            (value, label)
            for value, label in AppointmentStatus.choices
            if value in selectors.ON_BOARD
        ],
        required=False,
        help_text=_("Only patients in this status (sessions without one are left out)."),
    )
    q = serializers.CharField(
        required=False,
        max_length=40,
        help_text=_(
            "Search: a queue number (up to 4 digits), a full mobile or ID number (matched "
            "through the blind index), or a name."
        ),
    )

    def filters(self, user: Any) -> selectors.BoardFilters:
        """The board's filters; a doctor (without the desk's permission) sees their own
        sessions whatever is asked."""
        data = self.validated_data
        doctor = data.get("doctor")
        if not (user.has_perm(DESK) or user.has_perm("appointments.change_schedule")):
            own = selectors.doctor_of(user=user)
            doctor = own.pk if own is not None else 0
        kept = selectors.BoardFilters.search_from_query(data.get("q", ""))
        return selectors.BoardFilters(
            department=data.get("department", ""),
            doctor=doctor,
            session=data.get("session", ""),
            status=data.get("status", ""),
        ).with_search(kept)


class BoardTotalsSerializer(serializers.Serializer):
    sessions = serializers.IntegerField()
    booked = serializers.IntegerField(help_text=_("Appointments not cancelled."))
    checked_in = serializers.IntegerField(help_text=_("Checked in today (waiting or seen)."))
    waiting = serializers.IntegerField(help_text=_("Checked in, not seen yet."))
    seen = serializers.IntegerField()
    no_shows = serializers.IntegerField()
    walk_ins = serializers.IntegerField()
    revenue = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        help_text=_("What orders paid today (clinic day) brought in, for any day's visit."),
    )


class StaffTodayView(APIView):
    """Today's sessions (clinic time) with their counts and patients by queue number: every
    session for the front desk and clinic admins, a doctor's own for a doctor; filtered and
    searched as the console's today board."""

    permission_classes = [IsAuthenticated, staff_with(DESK, QUEUE)]

    @extend_schema(
        operation_id="staff_today",
        parameters=[StaffTodayFilterSerializer],
        responses={200: StaffSessionSerializer(many=True)},
        description=(
            "A day's board is bounded (the day's sessions, each at most its capacity), so it "
            "comes whole, not in pages. With a status or a search, sessions without a patient "
            "found are left out."
        ),
    )
    def get(self, request: Request) -> Response:
        query = StaffTodayFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        board = selectors.todays_board(
            today=timezone.localdate(), user=request.user, filters=query.filters(request.user)
        )
        body = StaffSessionSerializer([_session(s, request.user) for s in board], many=True).data
        return Response(body, headers={"Cache-Control": "no-store"})


class StaffTodayTotalsView(APIView):
    """The day at a glance (the board's top line) for the sessions the filters keep."""

    permission_classes = [IsAuthenticated, staff_with(DESK, QUEUE)]

    @extend_schema(
        operation_id="staff_today_totals",
        parameters=[StaffTodayFilterSerializer],
        responses={200: BoardTotalsSerializer},
        description="Status and search do not apply to the totals (as on the console's board).",
    )
    def get(self, request: Request) -> Response:
        query = StaffTodayFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        totals = selectors.board_totals(
            today=timezone.localdate(), filters=query.filters(request.user)
        )
        body = BoardTotalsSerializer(dataclasses.asdict(totals)).data
        return Response(body, headers={"Cache-Control": "no-store"})


class StaffCheckInView(APIView):
    """签到: check in the patient with ``number`` in today's session ``schedule``."""

    permission_classes = [IsAuthenticated, staff_with(DESK)]
    error_statuses = (404, 409)

    @extend_schema(
        operation_id="staff_check_in",
        request=CheckInSerializer,
        responses={200: StaffAppointmentSerializer},
        description=(
            "Only a confirmed (paid) appointment can be checked in: one awaiting payment is "
            "409 not_paid_yet, one checked in already or cancelled 409. A session that is not "
            "one of today's released sessions is 400; no such number in it, 404."
        ),
    )
    def post(self, request: Request) -> Response:
        data = CheckInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # The console's look-up form decides which sessions the desk may check in to.
        form = CheckInLookupForm(data=data.validated_data)
        if not form.is_valid():
            raise serializers.ValidationError(
                {
                    "non_field_errors" if field == NON_FIELD_ERRORS else field: list(messages)
                    for field, messages in form.errors.items()
                }
            )
        now = timezone.now()
        found = selectors.check_in_matches(
            today=timezone.localdate(now),
            user=request.user,
            schedule_id=form.cleaned_data["schedule"].pk,
            number=form.cleaned_data["number"],
        )
        if not found:
            raise NotFound(_("Nobody has this number in this session today."))
        appointment = services.check_in_patient(appointment=found[0].appointment, now=now)
        return Response(staff_appointment_body(appointment, request.user))


class StaffCallNextView(APIView):
    """叫号: call the patient who checked in first and has not been called yet."""

    permission_classes = [IsAuthenticated, staff_with(QUEUE)]

    @extend_schema(operation_id="staff_call_next", request=None, responses={200: CalledSerializer})
    def post(self, request: Request, pk: int) -> Response:
        schedule = selectors.queue_session(user=request.user, pk=pk)
        if schedule is None:
            raise NotFound(_("Not found."))
        called = services.call_next(schedule=schedule, by=request.user, now=timezone.now())
        body = {"called": staff_appointment_body(called, request.user) if called else None}
        return Response(body)


class StaffNoShowView(APIView):
    """The patient did not come: the appointment becomes a no-show (the no-show rule applies)."""

    permission_classes = [IsAuthenticated, staff_with(QUEUE)]
    error_statuses = (409,)

    @extend_schema(
        operation_id="staff_appointment_no_show",
        request=None,
        responses={200: StaffAppointmentSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        appointment = selectors.queue_appointment(user=request.user, pk=pk)
        if appointment is None:
            raise NotFound(_("Not found."))
        appointment = services.mark_no_show(
            appointment=appointment, by=request.user, now=timezone.now()
        )
        return Response(staff_appointment_body(appointment, request.user))
