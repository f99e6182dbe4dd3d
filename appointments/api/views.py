"""The catalogue API: departments, doctors (by department, by search), and a doctor's sessions
with live availability for the caller — the same selectors as the public pages."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import selectors
from ..slots import slots_of
from .serializers import (
    DepartmentSerializer,
    DoctorFilterSerializer,
    DoctorSerializer,
    SessionFilterSerializer,
    SessionSerializer,
)


class DepartmentListView(APIView):
    """Active departments, in the clinic's order."""

    permission_classes = [AllowAny]

    @extend_schema(operation_id="departments", responses={200: DepartmentSerializer(many=True)})
    def get(self, request: Request) -> Response:
        departments = selectors.active_departments()
        return Response(DepartmentSerializer(departments, many=True).data)


class DoctorListView(APIView):
    """Active doctors by seniority, optionally of one department or matching a search."""

    permission_classes = [AllowAny]
    error_statuses = (400,)

    @extend_schema(
        operation_id="doctors",
        parameters=[DoctorFilterSerializer],
        responses={200: DoctorSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        query = DoctorFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        doctors = selectors.catalogue_doctors(
            department=query.validated_data.get("department", ""),
            query=query.validated_data.get("q", ""),
            now=timezone.now(),
        )
        return Response(DoctorSerializer(doctors, many=True).data)


class DoctorDetailView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(operation_id="doctor", responses={200: DoctorSerializer})
    def get(self, request: Request, pk: int) -> Response:
        doctor = selectors.catalogue_doctor(pk=pk, now=timezone.now())
        if doctor is None:
            raise Http404("no such doctor")
        return Response(DoctorSerializer(doctor).data)


class DoctorSessionsView(APIView):
    """The doctor's sessions (default: the next 14 days), each with what the caller can do: a
    member's token shows their own limits (level opening earlier, already booked, paused)."""

    permission_classes = [AllowAny]
    error_statuses = (400,)

    @extend_schema(
        operation_id="doctor_sessions",
        parameters=[SessionFilterSerializer],
        responses={200: SessionSerializer(many=True)},
    )
    def get(self, request: Request, pk: int) -> Response:
        query = SessionFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        doctor = selectors.public_doctor(pk=pk)
        if doctor is None:
            raise Http404("no such doctor")
        now = timezone.now()
        member = selectors.viewing_member(user=request.user)
        bookings = selectors.member_bookings(member=member, now=now) if member else None
        schedules = selectors.schedules_for_doctor(
            doctor=doctor,
            start=query.validated_data.get("start") or timezone.localdate(now),
            days=query.validated_data["days"],
        )
        rows = [
            _session(
                schedule,
                selectors.schedule_availability(
                    schedule=schedule, member=member, now=now, bookings=bookings
                ),
            )
            for schedule in schedules
        ]
        headers = {"Cache-Control": "private, no-cache" if member else "no-cache"}
        return Response(SessionSerializer(rows, many=True).data, headers=headers)


def _session(schedule: Any, availability: Any) -> dict[str, Any]:
    return {
        "id": schedule.pk,
        "date": schedule.date,
        "session": schedule.session,
        "get_session_display": schedule.get_session_display(),
        "starts_at": schedule.starts_at,
        "ends_at": schedule.ends_at,
        "minutes_per_visit": schedule.minutes_per_visit,
        "slot_minutes": schedule.slot_minutes,
        "slots": [
            {"index": slot.index, "start": slot.start, "end": slot.end, "places": slot.size}
            for slot in slots_of(schedule)
        ],
        "room": schedule.local_room,
        "fee": schedule.fee,
        "status": schedule.status,
        "availability": {
            "state": availability.state,
            "remaining": availability.remaining,
            "capacity": availability.capacity,
            "opens_at": availability.opens_at,
            "public_opens_at": availability.public_opens_at,
            "can_book": availability.can_book,
            "reason_code": availability.blocker.code if availability.blocker else None,
            "reason": availability.message,
        },
    }
