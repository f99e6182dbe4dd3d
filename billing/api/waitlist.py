"""Taking up a waitlist offer through the API (候补): the held slot is booked for the place's
patient, as the waitlist page's accept button does (billing.views.member.waitlist_accept), and
is then paid like any booking (POST …/appointments/{id}/pay/)."""

from __future__ import annotations

from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from appointments import exceptions as errors
from appointments import selectors as appointment_selectors
from appointments.choices import Channel
from members.api.permissions import IsMember
from members.consents import require_sensitive_consent

from .. import selectors, services
from .serializers import AppointmentSerializer
from .throttles import BookingPerAddressThrottle, BookingPerMemberThrottle


class WaitlistAcceptView(APIView):
    """Book the slot held for one of the member's waitlist places; another member's is a
    404."""

    permission_classes = [IsAuthenticated, IsMember]
    error_statuses = (409,)

    def get_throttles(self) -> list:
        # Accepting books a slot: the same attempts per member and address as booking.
        return [*super().get_throttles(), BookingPerMemberThrottle(), BookingPerAddressThrottle()]

    @extend_schema(
        operation_id="waitlist_accept",
        request=None,
        parameters=[
            OpenApiParameter(
                "Location",
                str,
                OpenApiParameter.HEADER,
                response=[201],
                description="The booked appointment's address.",
            ),
        ],
        responses={201: AppointmentSerializer},
        description=(
            "Take up the offer: the held slot is booked (channel api) for the place's patient. "
            "A session with a fee is then held unpaid for the usual hold window — pay it with "
            "POST /api/v1/appointments/{id}/pay/ (can_pay) — a free one is confirmed at once. "
            "Accepting twice books once: the second is refused (already_booked) and the "
            "place names the appointment. Refusals: offer_gone (409: no slot is held for this "
            "place now — it ran out, passed on, or was never offered), the booking rules' "
            "(already_booked, banned, tier_limit: 409); sensitive_consent_required (403: "
            "accept it with POST /api/v1/consents/ first); throttled (429)."
        ),
    )
    def post(self, request: Request, pk: int) -> Response:
        require_sensitive_consent(user=request.user)  # 403 sensitive_consent_required
        member = request.member
        entry = appointment_selectors.waitlist_entry_of(member=member, pk=pk)
        if entry is None:
            raise Http404("no such waitlist place")
        if entry.offered_schedule is None:
            raise errors.OfferGone()
        now = timezone.now()
        appointment = services.accept_offer(
            member=member, entry=entry, now=now, channel=Channel.API
        )
        fresh = selectors.member_appointment(member=member, pk=appointment.pk)
        body = AppointmentSerializer(fresh, context={"now": now}).data
        headers = {
            "Location": reverse("api:appointment", args=[fresh.pk]),
            "Cache-Control": "no-store",
        }
        return Response(body, status=status.HTTP_201_CREATED, headers=headers)
