"""改约 through the API: the sessions an appointment may move to, each with what moving there
means for the money — the reschedule page's selector (billing.views.reschedule). The move
itself is POST …/reschedule/ (billing/api/views.py)."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from members.api.permissions import IsMember

from .. import reschedule_selectors, selectors
from .serializers import RescheduleOptionsSerializer


class RescheduleOptionsView(APIView):
    """Where one of the member's appointments may move; another member's is a 404."""

    permission_classes = [IsAuthenticated, IsMember]

    @extend_schema(
        operation_id="appointment_reschedule_options",
        responses={200: RescheduleOptionsSerializer},
        description=(
            "Whether the appointment may move now (the member's level allows so many moves "
            "per booking and per month, until the cancellation cutoff) and the released "
            "sessions it may move to in the next four weeks, soonest first, each with what it "
            "costs: refund (a cheaper session gives the difference back), extra (a dearer one "
            "is held until the difference is paid: POST …/reschedule/ answers the new "
            "appointment awaiting payment, paid with POST /api/v1/appointments/{id}/pay/), "
            "and whether it can be chosen now (reason_code: sold_out, already_booked …). "
            "Nothing is reserved by asking."
        ),
    )
    def get(self, request: Request, pk: int) -> Response:
        appointment = selectors.member_appointment(member=request.member, pk=pk)
        page = reschedule_selectors.reschedule_page(
            appointment=appointment, by=request.user, now=timezone.now()
        )
        response = Response(RescheduleOptionsSerializer(page).data)
        response["Cache-Control"] = "no-store"
        return response
