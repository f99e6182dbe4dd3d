"""The release reminders API (放号提醒): "remind me when it opens" on a session not yet open to
the member, their reminders, and cancelling one — the reminder pages' selectors and services
(appointments.views)."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from members.api.permissions import IsMember

from .. import selectors, services
from ..selectors.reminders import ReminderRow
from .serializers import ReminderInputSerializer, ReminderSerializer, RemindersSerializer


def _no_store(response: Response) -> Response:
    response["Cache-Control"] = "no-store"
    return response


def _row(member: Any, pk: int) -> dict[str, Any]:
    row = selectors.reminder_row_of(member=member, pk=pk)
    if row is None:
        raise Http404("no such reminder")
    return ReminderSerializer(row).data


class RemindersView(APIView):
    """The member's reminders (GET) and setting one (POST)."""

    permission_classes = [IsAuthenticated, IsMember]
    error_statuses = (404, 409)  # 404: the body's session does not exist

    @extend_schema(
        operation_id="reminders",
        responses={200: RemindersSerializer},
        description=(
            "The member's waiting reminders (soonest first, each with when it goes out at the "
            "member's level now) and their latest sent or closed ones. At most 20 wait at a "
            "time, so the list is not paged."
        ),
    )
    def get(self, request: Request) -> Response:
        waiting, closed = selectors.reminders_for_member(member=request.member)
        body = {
            "waiting": waiting,
            "closed": [ReminderRow(reminder=reminder, due_at=None) for reminder in closed],
        }
        return _no_store(Response(RemindersSerializer(body).data))

    @extend_schema(
        operation_id="reminder_set",
        request=ReminderInputSerializer,
        responses={201: ReminderSerializer, 200: ReminderSerializer},
        description=(
            "Be reminded (an in-app message and a text) when booking of the session opens for "
            "the member — earlier than the public release at a level that books ahead. 201 "
            "when set; 200 with the same reminder when it was set already (a retry sets no "
            "second one). Refusals: not_found (404: no such session); already_open (book it "
            "now), too_many_reminders, suspended, unavailable, past (409)."
        ),
    )
    def post(self, request: Request) -> Response:
        data = ReminderInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        schedule = selectors.bookable_schedule(pk=data.validated_data["schedule"])
        if schedule is None:
            raise Http404("no such session")
        member = request.member
        before = selectors.reminded_schedule_ids(member=member)
        reminder = services.set_release_reminder(member=member, schedule=schedule)
        code = status.HTTP_200_OK if schedule.pk in before else status.HTTP_201_CREATED
        return _no_store(Response(_row(member, reminder.pk), status=code))


class ReminderCancelView(APIView):
    """Cancel one of the member's waiting reminders; another member's is a 404."""

    permission_classes = [IsAuthenticated, IsMember]
    error_statuses = (409,)

    @extend_schema(
        operation_id="reminder_cancel",
        request=None,
        responses={200: ReminderSerializer},
        description=(
            "Cancel the reminder (cancelling twice changes nothing). Refusals: reminder_closed "
            "(409: it was sent already, or its session was cancelled or has passed)."
        ),
    )
    def post(self, request: Request, pk: int) -> Response:
        reminder = selectors.reminder_of(member=request.member, pk=pk)
        if reminder is None:
            raise Http404("no such reminder")
        services.cancel_release_reminder(reminder=reminder)
        return _no_store(Response(_row(request.member, pk)))
