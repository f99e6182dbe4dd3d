"""Completing a visit through the API (for a queue the login runs: a doctor's own session,
clinic admins any). It is billing's because completion awards the points the visit paid for
(billing.services.complete_visit: one transaction), exactly as the console's button does
(billing/staff_views.py ``complete``). The rest of the clinic day's endpoints are
appointments/api/staff.py; this module holds its own URL, included by the root URLconf."""

from __future__ import annotations

from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from appointments.api.staff import QUEUE, StaffAppointmentSerializer, staff_appointment_body
from medbook.api.permissions import staff_with

from .. import selectors, services


class StaffCompleteView(APIView):
    """The visit is over: checked in → completed; a paid visit earns the member its points."""

    permission_classes = [IsAuthenticated, staff_with(QUEUE)]
    error_statuses = (409,)

    @extend_schema(
        operation_id="staff_appointment_complete",
        request=None,
        responses={200: StaffAppointmentSerializer},
        description=(
            "Only a checked-in patient's visit can be completed (409 otherwise). Another "
            "doctor's patient is 404."
        ),
    )
    def post(self, request: Request, pk: int) -> Response:
        appointment = selectors.queue_appointment(pk=pk, user=request.user)
        appointment = services.complete_visit(
            appointment=appointment, by=request.user, now=timezone.now()
        )
        return Response(staff_appointment_body(appointment, request.user))


urlpatterns = [
    path(
        "staff/appointments/<int:pk>/complete/",
        StaffCompleteView.as_view(),
        name="staff_appointment_complete",
    ),
]
