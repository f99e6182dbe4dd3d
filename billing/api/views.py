"""The appointments API: book (idempotent with an ``Idempotency-Key``), my appointments, one
appointment, pay, and cancel with the refund preview — the booking pages' selectors and
services, called the same way (billing.views.member)."""

from __future__ import annotations

import json
import re
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from appointments import exceptions as errors
from appointments.choices import Channel
from appointments.models import Appointment
from medbook.api.errors import ApiError
from medbook.api.pagination import CursorPagination
from members import patients as patient_selectors
from members.api.permissions import IsMember
from members.consents import require_sensitive_consent

from .. import exceptions as payment_errors
from .. import reschedule_selectors, selectors, services
from ..choices import PaymentMethod
from .serializers import (
    IDEMPOTENCY_HEADER,
    IDEMPOTENCY_KEY_MAX,
    AppointmentFilterSerializer,
    AppointmentSerializer,
    BookSerializer,
    CancelledSerializer,
    CancelPreviewSerializer,
    PaymentSerializer,
    PaySerializer,
    RescheduledSerializer,
    RescheduleSerializer,
)
from .throttles import BookingPerAddressThrottle, BookingPerMemberThrottle

MEMBER_CANCEL_REASON = "会员自行取消"  # as on the cancel page
REPLAYED_HEADER = "Idempotent-Replayed"
# Printable ASCII without spaces at either end: a UUID, a ULID, any app's request id.
KEY_PATTERN = re.compile(r"^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$")

BOOK_REFUSALS = (
    "Refusals (error.code): sold_out, not_yet_open, already_booked, tier_limit, banned, "
    "one_per_department_day, suspended, unavailable, past (409, the booking page's own); "
    "slot_full (409: the chosen time slot has no place left, others may); no_such_slot (400: "
    "not one of the session's slots); "
    "late_booking_unconfirmed (400: send accept_late); invalid with field patient (400: not "
    "one of the account's patients); not_found (404: no session with that id open to "
    "booking); idempotency_key_reused (422); "
    "sensitive_consent_required (403: accept it with POST /api/v1/consents/ first); "
    "throttled (429)."
)


class AppointmentPagination(CursorPagination):
    ordering = "-id"  # the latest booking first


def _no_store(response: Response) -> Response:
    response["Cache-Control"] = "no-store"
    return response


def _idempotency_key(request: Request) -> str:
    """The request's Idempotency-Key ("" without one); a malformed one is a 400."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return ""
    if not (0 < len(key) <= IDEMPOTENCY_KEY_MAX and KEY_PATTERN.match(key)):
        raise ApiError(
            fields={
                IDEMPOTENCY_HEADER: [
                    str(
                        _(
                            "Send 1 to %(max)d printable ASCII characters, e.g. a UUID made "
                            "for this booking."
                        )
                        % {"max": IDEMPOTENCY_KEY_MAX}
                    )
                ]
            }
        )
    return key


def _appointment_body(appointment: Appointment, *, now: Any) -> dict[str, Any]:
    """The appointment as JSON data (exactly what is sent, so it can be stored and replayed)."""
    data = AppointmentSerializer(appointment, context={"now": now}).data
    return json.loads(JSONRenderer().render(data))


class AppointmentListView(generics.GenericAPIView):
    """The member's appointments (GET) and booking a session (POST)."""

    permission_classes = [IsAuthenticated, IsMember]
    pagination_class = AppointmentPagination
    serializer_class = AppointmentSerializer
    error_statuses = (400, 404, 409, 422)  # 404: the body's session does not exist

    def get_throttles(self) -> list:
        throttles = super().get_throttles()
        if self.request.method == "POST":
            throttles += [BookingPerMemberThrottle(), BookingPerAddressThrottle()]
        return throttles

    def get_queryset(self) -> QuerySet[Appointment]:
        query = AppointmentFilterSerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.member_appointment_list(
            member=self.request.member,
            status=query.validated_data.get("status", ""),
            upcoming=query.validated_data.get("upcoming"),
            now=timezone.now(),
        )

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "now": timezone.now()}

    @extend_schema(
        operation_id="appointments",
        parameters=[AppointmentFilterSerializer],
        responses={200: AppointmentSerializer(many=True)},
        description="The member's appointments, latest booking first, a page at a time.",
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        serializer = self.get_serializer(page, many=True)
        return _no_store(self.get_paginated_response(serializer.data))

    @extend_schema(
        operation_id="appointment_book",
        request=BookSerializer,
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                str,
                OpenApiParameter.HEADER,
                required=False,
                description=(
                    "Recommended: a new unique value (e.g. a UUID) per booking the member "
                    "means to make, sent again unchanged on every retry of it. The first "
                    "request with a key books; any later one with the same key (also at the "
                    "same moment) gets the same status and body back, with "
                    f"{REPLAYED_HEADER}: true, and books nothing. A refused booking uses no "
                    "key up. Keys are per member; the same key with a different body is a "
                    "422 idempotency_key_reused. Without a key, a retry after a lost answer "
                    "is refused as already_booked."
                ),
            ),
            OpenApiParameter(
                REPLAYED_HEADER,
                str,
                OpenApiParameter.HEADER,
                response=[201],
                enum=["true", "false"],
                description="With an Idempotency-Key: true when this answer is a replay.",
            ),
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
            "Book a session (channel api). A session with a fee is held unpaid for the "
            f"hold window ({settings.MEDBOOK_HOLD_MINUTES} minutes by default): pay it with "
            "POST …/pay/; a free one is confirmed at once. " + BOOK_REFUSALS
        ),
    )
    def post(self, request: Request) -> Response:
        require_sensitive_consent(user=request.user)  # 403 sensitive_consent_required
        key = _idempotency_key(request)
        data = BookSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = request.member
        fingerprint = services.request_fingerprint(dict(data.validated_data))
        if key:
            earlier = services.replayed_booking(member=member, key=key, fingerprint=fingerprint)
            if earlier is not None:
                return self._keyed_response(earlier)
        schedule = selectors.bookable_schedule(pk=data.validated_data["schedule"])
        patient = patient_selectors.patient_for_booking(
            member=member, patient_id=data.validated_data.get("patient")
        )
        now = timezone.now()
        if not data.validated_data["accept_late"] and selectors.not_cancellable_online(
            schedule=schedule, member=member, now=now
        ):
            raise errors.LateBookingUnconfirmed(settings.MEDBOOK_CANCEL_CUTOFF_HOURS)

        def answer(appointment: Appointment) -> tuple[int, dict[str, Any]]:
            fresh = selectors.member_appointment(member=member, pk=appointment.pk)
            return status.HTTP_201_CREATED, _appointment_body(fresh, now=now)

        if key:
            return self._keyed_response(
                services.place_booking_once(
                    member=member,
                    schedule=schedule,
                    key=key,
                    fingerprint=fingerprint,
                    answer=answer,
                    channel=Channel.API,
                    now=now,
                    patient=patient,
                    slot=data.validated_data.get("slot"),
                )
            )
        appointment = services.place_booking(
            member=member,
            schedule=schedule,
            channel=Channel.API,
            now=now,
            patient=patient,
            slot=data.validated_data.get("slot"),
        )
        code, body = answer(appointment)
        return _no_store(Response(body, status=code, headers=_location(body)))

    def _keyed_response(self, keyed: services.KeyedAnswer) -> Response:
        headers = {REPLAYED_HEADER: "true" if keyed.replayed else "false", **_location(keyed.body)}
        return _no_store(Response(keyed.body, status=keyed.status, headers=headers))


def _location(body: dict[str, Any]) -> dict[str, str]:
    return {"Location": reverse("api:appointment", args=[body["id"]])} if "id" in body else {}


class AppointmentDetailView(APIView):
    """One of the member's appointments; another member's is a 404."""

    permission_classes = [IsAuthenticated, IsMember]

    @extend_schema(operation_id="appointment", responses={200: AppointmentSerializer})
    def get(self, request: Request, pk: int) -> Response:
        appointment = selectors.member_appointment(member=request.member, pk=pk)
        return _no_store(
            Response(AppointmentSerializer(appointment, context={"now": timezone.now()}).data)
        )


class AppointmentPayView(APIView):
    """What the app needs to pay the appointment's order by one method."""

    permission_classes = [IsAuthenticated, IsMember]
    error_statuses = (400, 409)

    @extend_schema(
        operation_id="appointment_pay",
        request=PaySerializer,
        responses={200: PaymentSerializer},
        description=(
            "Returns the page to open (sandbox cashier; Alipay page pay), the Alipay app-pay "
            "order string, or a WeChat Pay prepay order: wechat_native gives code_url (show "
            "it as a QR code), wechat_jsapi (send openid) the signed jsapi parameters for "
            "WeixinJSBridge / wx.requestPayment, wechat_app the signed app parameters for "
            "the WeChat App SDK; each runs out with the hold (expires_at). Nothing is charged "
            "here: the payment is applied when the gateway notifies MedBook; poll GET "
            "…/<id>/ for the status. With gateway (alipay or wechat, where both are set up) "
            "the member chooses how to pay: the unpaid order switches to that gateway first "
            "(a payment at the one it leaves still counts; a second payment is refunded "
            "automatically). Refusals: invalid (400: a gateway not offered here, a method "
            "not of that gateway, neither sent); openid_required (400: wechat_jsapi without "
            "openid); already_paid, hold_expired, cancelled, nothing_to_pay (a free "
            "session), gateway_unavailable (the method is not the order's gateway, is not "
            "set up here, or the gateway cannot be reached now) (409)."
        ),
    )
    def post(self, request: Request, pk: int) -> Response:
        data = PaySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        appointment = selectors.member_appointment(member=request.member, pk=pk)
        now = timezone.now()
        gateway, method = data.validated_data["gateway"], data.validated_data["method"]
        if method == PaymentMethod.WECHAT_JSAPI and not data.validated_data["openid"]:
            raise payment_errors.OpenidRequired()  # before the switch: bad input writes nothing
        order = selectors.order_of(appointment)
        if gateway and order is not None and order.gateway != gateway:
            services.choose_gateway(order=order, gateway=gateway, by=request.user, now=now)
            appointment = selectors.member_appointment(member=request.member, pk=pk)
        payment = selectors.payment_request(
            appointment=appointment,
            method=method,
            openid=data.validated_data["openid"],
            now=now,
        )
        body = PaymentSerializer(payment).data
        if body["url"]:
            body["url"] = request.build_absolute_uri(body["url"])
        return _no_store(Response(body))


class AppointmentCancelView(APIView):
    """The refund preview (GET) and the cancellation (POST)."""

    permission_classes = [IsAuthenticated, IsMember]
    error_statuses = (409,)

    @extend_schema(
        operation_id="appointment_cancel_preview",
        responses={200: CancelPreviewSerializer},
        description="What cancelling now would mean: whether it can be done online, until "
        "when it is free, and the refund.",
    )
    def get(self, request: Request, pk: int) -> Response:
        appointment = selectors.member_appointment(member=request.member, pk=pk)
        terms = selectors.cancel_terms(appointment=appointment, by=request.user, now=timezone.now())
        preview = {
            "allowed": terms.allowed,
            "reason_code": terms.blocker.code if terms.blocker else None,
            "reason": terms.blocker.message if terms.blocker else "",
            "cutoff": terms.cutoff,
            "late": terms.late,
            "paid": terms.paid,
            "refund": terms.refund,
            "rule": terms.rule,
        }
        return _no_store(Response(CancelPreviewSerializer(preview).data))

    @extend_schema(
        operation_id="appointment_cancel",
        request=None,
        responses={200: CancelledSerializer},
        description=(
            "Cancel. An unpaid hold is released; a paid appointment's refund (as the preview "
            "said) is started and reaches the member's account when the gateway has carried "
            "it out (see refunds on the appointment). Refusals: cancellation_closed, started, "
            "not_cancellable (409)."
        ),
    )
    def post(self, request: Request, pk: int) -> Response:
        appointment = selectors.member_appointment(member=request.member, pk=pk)
        now = timezone.now()
        cancelled = services.cancel_booking(
            appointment=appointment, by=request.user, reason=MEMBER_CANCEL_REASON, now=now
        )
        fresh = selectors.member_appointment(member=request.member, pk=pk)
        body = CancelledSerializer(
            {"appointment": fresh, "refund": cancelled.refund_requested}, context={"now": now}
        ).data
        return _no_store(Response(body))


class AppointmentRescheduleView(APIView):
    """改约: move the appointment to another session, as the appointment page does."""

    permission_classes = [IsAuthenticated, IsMember]
    error_statuses = (409,)

    def get_throttles(self) -> list:
        # A move takes a slot as a booking does: the same attempts per member and address.
        return [*super().get_throttles(), BookingPerMemberThrottle(), BookingPerAddressThrottle()]

    @extend_schema(
        operation_id="appointment_reschedule",
        request=RescheduleSerializer,
        responses={200: RescheduledSerializer},
        description=(
            "Move the appointment (awaiting payment or confirmed) to another released session "
            "of the same doctor (of the department, where the clinic allows it), in one step: "
            "the old slot is freed and the new one taken together. A paid booking keeps its "
            "payment: the same fee moves the order, a cheaper session refunds the difference "
            "through the gateway (see refunds on the appointment); an unpaid hold moves with "
            "its deadline. A dearer session is held for the difference: the answer's "
            "appointment is the new one, awaiting payment (completed false, difference, its "
            "order a top-up payable like any order within the hold window); the old one stays "
            "confirmed until the difference is paid, and the move then completes (else the "
            "hold runs out and nothing changed). As often as the member's level allows, per "
            "booking and per month, until the cancellation cutoff. Refusals: invalid, "
            "same_session, other_doctor, late_booking_unconfirmed (400); reschedule_closed, "
            "reschedule_limit, reschedule_monthly_limit, move_pending, not_reschedulable, "
            "fee_higher (a free visit), hold_expired, and the booking refusals of the new "
            "session: sold_out, not_yet_open, already_booked, banned, one_per_department_day, "
            "suspended, unavailable, past (409)."
        ),
    )
    def post(self, request: Request, pk: int) -> Response:
        data = RescheduleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        appointment = selectors.member_appointment(member=request.member, pk=pk)
        schedule, refusal = reschedule_selectors.chosen_target(
            appointment=appointment, pk=data.validated_data["schedule"], by=request.user
        )
        if refusal is not None:
            raise refusal
        now = timezone.now()
        if not data.validated_data["accept_late"] and selectors.not_cancellable_online(
            schedule=schedule, member=request.member, now=now
        ):
            raise errors.LateBookingUnconfirmed(settings.MEDBOOK_CANCEL_CUTOFF_HOURS)
        outcome = services.reschedule_booking(
            appointment=appointment, schedule=schedule, by=request.user, now=now
        )
        fresh = selectors.member_appointment(member=request.member, pk=outcome.new.pk)
        body = RescheduledSerializer(
            {
                "appointment": fresh,
                "previous": outcome.old.pk,
                "refund": outcome.refund,
                "completed": not outcome.awaiting_difference,
                "difference": outcome.order.amount if outcome.awaiting_difference else 0,
            },
            context={"now": now},
        ).data
        return _no_store(
            Response(body, headers={"Location": reverse("api:appointment", args=[fresh.pk])})
        )
