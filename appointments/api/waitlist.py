"""The waitlist API (候补): the member's places with their position and any slot held for
them, joining the waitlist of a sold-out session (or of any session of a doctor between two
days), and leaving it — the waitlist pages' selectors and services, called the same way
(appointments.views). Accepting an offer books, so it is billing's
(billing/api/waitlist.py)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from members.api.permissions import IsMember
from members.patients import patient_for_booking

from .. import selectors, services
from .serializers import WaitlistEntrySerializer, WaitlistJoinSerializer, WaitlistSerializer

JOIN_REFUSALS = (
    "Refusals (error.code): invalid (400: neither or both of schedule and doctor, a bad "
    "date, or patient not one of the account's), waitlist_days (400: the days are not from "
    "today on, in order, at most 14); not_found (404: no such session or doctor); "
    "slots_free (book it instead), already_waiting, already_booked, too_many_waiting, "
    "not_yet_open, banned, tier_limit, suspended, unavailable, past (409); throttled (429)."
)


def _no_store(response: Response) -> Response:
    response["Cache-Control"] = "no-store"
    return response


def _row(member: Any, pk: int) -> dict[str, Any]:
    row = selectors.waitlist_row_of(member=member, pk=pk)
    if row is None:
        raise Http404("no such waitlist place")
    return WaitlistEntrySerializer(row).data


class WaitlistView(APIView):
    """我的候补 (GET) and joining a waitlist (POST)."""

    permission_classes = [IsAuthenticated, IsMember]
    error_statuses = (404, 409)  # 404: the body's session or doctor does not exist

    @extend_schema(
        operation_id="waitlist",
        responses={200: WaitlistSerializer},
        description=(
            "The member's open places (offers first, with the time the slot is held until; "
            "then by day, each with its position) and their latest closed ones. At most "
            f"{settings.MEDBOOK_WAITLIST_MAX_ENTRIES} places are open at a time, so the list "
            "is not paged."
        ),
    )
    def get(self, request: Request) -> Response:
        rows, closed = selectors.waitlist_for_member(member=request.member)
        body = {
            "open": rows,
            "closed": [selectors.WaitlistRow(entry=entry, position=None) for entry in closed],
        }
        return _no_store(Response(WaitlistSerializer(body).data))

    @extend_schema(
        operation_id="waitlist_join",
        request=WaitlistJoinSerializer,
        responses={201: WaitlistEntrySerializer},
        description=(
            "Join the waitlist of a sold-out session (schedule), or of any session of a doctor "
            "from date_from to date_to (doctor), for one of the account's patients. When a "
            "slot is freed it is held for the first member waiting (higher level first, then "
            f"who joined first) for {settings.MEDBOOK_WAITLIST_OFFER_MINUTES} minutes, with "
            "an in-app message and a text: accept it with POST /api/v1/waitlist/{id}/accept/. "
            "Joining the same session twice is refused (already_waiting), so a retry books "
            "no second place. " + JOIN_REFUSALS
        ),
    )
    def post(self, request: Request) -> Response:
        data = WaitlistJoinSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = request.member
        values = data.validated_data
        patient = patient_for_booking(member=member, patient_id=values.get("patient"))
        if "schedule" in values:
            schedule = selectors.bookable_schedule(pk=values["schedule"])
            if schedule is None:
                raise Http404("no such session")
            entry = services.join_waitlist(member=member, schedule=schedule, patient=patient)
        else:
            doctor = selectors.public_doctor(pk=values["doctor"])
            if doctor is None:
                raise Http404("no such doctor")
            entry = services.join_doctor_waitlist(
                member=member,
                doctor=doctor,
                date_from=values["date_from"],
                date_to=values["date_to"],
                patient=patient,
                now=timezone.now(),
            )
        return _no_store(Response(_row(member, entry.pk), status=status.HTTP_201_CREATED))


class WaitlistLeaveView(APIView):
    """Leave one of the member's places; another member's is a 404."""

    permission_classes = [IsAuthenticated, IsMember]
    error_statuses = (409,)

    @extend_schema(
        operation_id="waitlist_leave",
        request=None,
        responses={200: WaitlistEntrySerializer},
        description=(
            "Leave the waitlist. A slot held for the member is declined and passes to the next "
            "member at once. Refusals: not_leavable (409: the place is closed already — "
            "booked, left, run out or closed)."
        ),
    )
    def post(self, request: Request, pk: int) -> Response:
        entry = selectors.waitlist_entry_of(member=request.member, pk=pk)
        if entry is None:
            raise Http404("no such waitlist place")
        services.leave_waitlist(entry=entry)
        return _no_store(Response(_row(request.member, pk)))
