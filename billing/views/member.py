"""A member's booking pages: confirm and book, pay, my appointments, cancel, calendar file."""

from __future__ import annotations

import base64
from collections.abc import Callable
from functools import wraps

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, HttpResponseClientRefresh

from appointments import exceptions as errors
from appointments import gate
from appointments import selectors as appointment_selectors
from appointments.choices import Channel
from appointments.gate import Verdict
from appointments.models import Appointment
from medbook import throttle
from medbook.audit import client_ip
from members import patients as patient_selectors
from members.consents import has_sensitive_consent
from members.decorators import member_required, sensitive_consent_required
from members.models import Patient

from .. import exceptions as payment_errors
from .. import reschedule_selectors, selectors, services
from ..calendar import appointment_ics
from ..gateways import GatewayError, cashier_origins
from ..insurance import services as insurance
from ..middleware import attempt_patient, release_gated
from ..models import Order

PAST_PAGE_SIZE = 20


def express_first(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A plain booking the release gate let through is written the express way
    (billing.services.express) before the member is read for the page; anything else, and
    anything the express way leaves, goes on to ``view``."""

    @wraps(view)
    def wrapped(request: HttpRequest, schedule_id: int) -> HttpResponse:
        attempt = getattr(request, "release_gate", None)
        if (
            request.method == "POST"
            and attempt is not None
            and attempt.verdict == Verdict.GO
            and request.user.is_authenticated
            and has_sensitive_consent(user=request.user, session=request.session)
        ):
            response = _express(request, schedule_id, attempt)
            if response is not None:
                add_never_cache_headers(response)  # as member_required does
                return response
        return view(request, schedule_id=schedule_id)

    return wrapped


@release_gated
@require_http_methods(["GET", "POST"])
@express_first
@member_required
@sensitive_consent_required
def book(request: HttpRequest, schedule_id: int) -> HttpResponse:
    """Confirm page (doctor, time, fee, discount, amount) and the booking itself. A POST comes
    here only when the release gate (billing.middleware) could not answer it."""
    member = request.member
    attempt = getattr(request, "release_gate", None)
    verdict = attempt.verdict if attempt is not None else Verdict.OFFLINE
    gate_patient = attempt.patient if attempt is not None else attempt_patient(request)
    schedule = selectors.bookable_schedule(pk=schedule_id)
    now = timezone.now()
    patients = patient_selectors.bookable_patients(member=member)
    asked = (request.POST if request.method == "POST" else request.GET).get("patient", "")
    patient = _chosen_patient(patients, asked)
    slot, slot_ok = _chosen_slot(request)
    error, status = None, 200
    if verdict == Verdict.THROTTLED or (
        verdict == Verdict.OFFLINE and request.method == "POST" and not _booking_allowed(request)
    ):
        error = errors.AppointmentError(
            _("Too many booking attempts in a short time. Please wait a minute and try again.")
        )
        status = 429
    elif patient is None:
        # Not one of the account's patients (another account's, removed, made up): nothing is
        # booked; the page offers the account's own.
        error, status = errors.NotYourPatient(), 400
        patient = patients[0]
        if request.method == "POST":
            _settle(schedule_id, request.user.pk, verdict, {}, gate_patient)
            if attempt is not None:
                attempt.settled = True
    elif not slot_ok:
        # Not a slot number at all: nothing is booked; the page offers the session's slots.
        error, status = errors.NoSuchSlot(), 400
        _settle(schedule_id, request.user.pk, verdict, {}, gate_patient)
        if attempt is not None:
            attempt.settled = True
    elif (
        request.method == "POST"
        and not request.POST.get("accept_late")
        and selectors.not_cancellable_online(schedule=schedule, member=member, now=now)
    ):
        # The page asked for a tick (the browser insists too); without it nothing is booked.
        error, status = errors.LateBookingUnconfirmed(settings.MEDBOOK_CANCEL_CUTOFF_HOURS), 400
        _settle(schedule_id, request.user.pk, verdict, {}, gate_patient)
        if attempt is not None:
            attempt.settled = True
    elif request.method == "POST":
        outcome: dict = {}
        try:
            appointment = services.place_booking(
                member=member,
                schedule=schedule,
                channel=Channel.WEB,
                now=now,
                patient=patient,
                slot=slot,
            )
        except errors.AlreadyBooked:
            # Pressing "book" twice: the first press booked; show that booking.
            existing = appointment_selectors.active_appointment_of(
                member=member, schedule=schedule, patient=patient
            )
            if existing is not None:
                outcome = {"booked_id": existing.pk}
                messages.info(request, _("You already have this appointment."))
                return redirect("billing:appointment_detail", existing.pk)
            error, status = errors.AlreadyBooked(), 409
        except errors.SoldOut as exc:
            outcome = {"sold_out": True}
            error, status = exc, 409
        except errors.NoSuchSlot as exc:
            error, status = exc, 400
        except errors.AppointmentError as exc:
            error, status = exc, 409
        else:
            order = selectors.payable_order(appointment, now)
            outcome = {"booked_id": appointment.pk, "hold_until": order and order.expires_at}
            if order is not None:
                return redirect("billing:appointment_pay", appointment.pk)
            return redirect("billing:appointment_detail", appointment.pk)
        finally:
            _settle(schedule_id, request.user.pk, verdict, outcome, gate_patient)
            if attempt is not None:
                attempt.settled = True
        schedule = selectors.bookable_schedule(pk=schedule_id)  # as the refusal left it
    preview = selectors.booking_preview(schedule=schedule, member=member, now=now, patient=patient)
    slots = appointment_selectors.slot_choices(schedule=schedule)
    context = {
        "slots": slots,
        "chosen_slot": _preselected_slot(slots, slot),
        "slot_refused": isinstance(error, (errors.SlotFull, errors.NoSuchSlot)),
        "schedule": schedule,
        "member": member,
        "patients": patients,
        "patient": patient,
        "availability": preview.availability,
        "error": error or preview.error,
        "payable": preview.payable,
        "insurance_quote": insurance.booking_quote(
            member=member, schedule=schedule, patient=patient, now=now
        ),
        "late": preview.late,
        "late_unconfirmed": isinstance(error, errors.LateBookingUnconfirmed),
        "hold_minutes": settings.MEDBOOK_HOLD_MINUTES,
        "cutoff_hours": settings.MEDBOOK_CANCEL_CUTOFF_HOURS,
        "offer_minutes": settings.MEDBOOK_WAITLIST_OFFER_MINUTES,
        "waiting": appointment_selectors.waiting_schedule_ids(member=member)
        if preview.availability.can_wait
        else frozenset(),
    }
    return render(request, "billing/book.html", context, status=status)


def _express(request: HttpRequest, schedule_id: int, attempt) -> HttpResponse | None:
    """A plain booking the gate let through, written the express way (billing.services.express):
    the redirect to pay (or to the booking). None: the rest of the view decides it."""
    form = request.POST
    if form.get("slot", "").strip() or form.get("patient", "").strip() != attempt.patient:
        return None  # a time slot chosen, or a patient that is not an id: the full path
    booked = services.express_booking(
        user_id=request.user.pk,
        schedule_id=schedule_id,
        patient_id=int(attempt.patient) if attempt.patient else None,
        accept_late=bool(form.get("accept_late")),
        now=timezone.now(),
    )
    if booked is None:
        return None
    _settle(
        schedule_id,
        request.user.pk,
        attempt.verdict,
        {"booked_id": booked.appointment_id, "hold_until": booked.hold_until},
        attempt.patient,
    )
    attempt.settled = True
    if booked.order_id is not None:
        return redirect("billing:appointment_pay", booked.appointment_id)
    return redirect("billing:appointment_detail", booked.appointment_id)


def _chosen_patient(patients: list[Patient], asked: str) -> Patient | None:
    """The patient the page or the form names among the account's (the holder, first, when it
    names none); None when it names one that is not theirs."""
    if not asked:
        return patients[0]
    return next((p for p in patients if str(p.pk) == asked.strip()), None)


def _chosen_slot(request: HttpRequest) -> tuple[int | None, bool]:
    """The time slot a booking form chose (None: none chose, the earliest free is taken) and
    whether what it sent was a slot number at all."""
    asked = request.POST.get("slot", "").strip() if request.method == "POST" else ""
    if not asked:
        return None, True
    if asked.isdigit() and len(asked) <= 4:
        return int(asked), True
    return None, False


def _preselected_slot(slots: list, asked: int | None) -> int | None:
    """The slot the form shows chosen: the one asked for while it has a place, else the
    earliest with a place."""
    free = [choice.index for choice in slots if choice.free]
    if asked in free:
        return asked
    return free[0] if free else None


def _settle(
    schedule_id: int, user_id: int, verdict: Verdict, outcome: dict, patient: str = ""
) -> None:
    """Tell the release gate what the database decided for an attempt it let through, and
    give it the session's stock when it had none."""
    if verdict == Verdict.GO:
        gate.settle(schedule_id=schedule_id, user_id=user_id, patient=patient, **outcome)
    elif verdict == Verdict.UNKNOWN:
        stock = appointment_selectors.gate_stock(schedule_id=schedule_id)
        if stock is not None:
            gate.rebuild(
                schedule_id=schedule_id,
                remaining=stock.remaining,
                ends_at=stock.ends_at,
                now=timezone.now(),
                recheck_at=stock.recheck_at,
            )
        if "booked_id" in outcome:
            gate.settle(
                schedule_id=schedule_id,
                user_id=user_id,
                patient=patient,
                booked_id=outcome["booked_id"],
            )


def _booking_allowed(request: HttpRequest) -> bool:
    """Booking attempts per member and per address (both must be within their rate)."""
    member_ok = throttle.allow(
        scope="book-member", who=str(request.member.pk), rate=settings.MEDBOOK_BOOKING_RATE_MEMBER
    )
    ip_ok = throttle.allow(
        scope="book-ip", who=client_ip(request) or "-", rate=settings.MEDBOOK_BOOKING_RATE_IP
    )
    return member_ok and ip_ok


@require_GET
@member_required
def appointment_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    past = request.GET.get("show") == "past"
    appointments = selectors.member_appointments(member=request.member, upcoming=not past)
    if past:
        page = Paginator(appointments, PAST_PAGE_SIZE).get_page(request.GET.get("page"))
        rows = list(page)
    else:
        page = None
        rows = list(appointments)
    items = selectors.appointment_rows(appointments=rows, now=now)
    return render(
        request,
        "billing/appointment_list.html",
        {"items": items, "past": past, "page": page, "now": now},
    )


@require_GET
@member_required
def appointment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The result page: queue number and time, status in words, pay or cancel from here."""
    appointment = selectors.member_appointment(member=request.member, pk=pk)
    now = timezone.now()
    detail = selectors.appointment_view(appointment=appointment, by=request.user, now=now)
    moves = reschedule_selectors.reschedule_links(appointment=appointment, by=request.user, now=now)
    context = {
        "appointment": appointment,
        "schedule": appointment.schedule,
        "detail": detail,
        "moves": moves,
    }
    template = "billing/appointment_detail.html"
    if request.htmx:
        template = "billing/partials/_appointment_status.html"
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@member_required
def appointment_pay(request: HttpRequest, pk: int) -> HttpResponse:
    """The pay step: with one online gateway, straight to its cashier; with more (Alipay and
    WeChat Pay), the member chooses one (POST ``gateway``), which the order is paid through
    from then on, and goes to its cashier."""
    appointment = selectors.member_appointment(member=request.member, pk=pk)
    now = timezone.now()
    order = selectors.payable_order(appointment, now)
    if request.method == "POST":
        if order is None:
            order = selectors.order_of(appointment)
        try:
            if order is None:
                raise payment_errors.NothingToPay()
            order = services.choose_gateway(
                order=order, gateway=request.POST.get("gateway", ""), by=request.user, now=now
            )
        except payment_errors.UnknownGateway as exc:
            return _pay_choice(request, appointment, order, error=exc.message, status=400)
        except payment_errors.PaymentError as exc:
            messages.error(request, exc.message)
            return redirect("billing:appointment_detail", appointment.pk)
        return _to_cashier(request, appointment, order)
    if order is None:
        messages.info(request, _("There is nothing to pay for this appointment."))
        return redirect("billing:appointment_detail", appointment.pk)
    if len(selectors.payment_choices(order)) > 1:
        return _pay_choice(request, appointment, order)
    return _to_cashier(request, appointment, order)


def _pay_choice(
    request: HttpRequest,
    appointment: Appointment,
    order: Order,
    *,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    choices = selectors.payment_choices(order)
    context = {
        "appointment": appointment,
        "schedule": appointment.schedule,
        "order": order,
        "choices": choices,
        "error": error,
    }
    response = render(request, "billing/appointment_pay.html", context, status=status)
    origins = cashier_origins([choice.gateway for choice in choices])
    if origins:
        # The choice is posted here and sent on to the gateway's cashier (Alipay): the browser
        # follows that redirect only when form-action allows the cashier's origin.
        response["Content-Security-Policy"] = settings.MEDBOOK_CSP.replace(
            "form-action 'self'", "form-action 'self' " + " ".join(origins)
        )
    return response


def _to_cashier(request: HttpRequest, appointment: Appointment, order: Order) -> HttpResponse:
    try:
        return redirect(selectors.checkout_url(order))
    except GatewayError:
        messages.error(
            request,
            _("Online payment is not available right now. Please pay at the front desk."),
        )
        return redirect("billing:appointment_detail", appointment.pk)


def qr_code_data_uri(text: str) -> str:
    """``text`` as a QR code: an SVG drawn here, as a data: URI an <img> shows under the CSP."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(image.to_string()).decode()


@require_GET
@member_required
def wechat_checkout(request: HttpRequest, pk: int) -> HttpResponse:
    """WeChat Pay by QR code (Native): the code, the amount and the time left; the page polls
    (HTMX) until the payment arrives (then the appointment page) or the hold runs out."""
    appointment = selectors.member_appointment(member=request.member, pk=pk)
    checkout = selectors.wechat_checkout(
        appointment=appointment, now=timezone.now(), with_code=not request.htmx
    )
    state = checkout.state
    if state == selectors.CheckoutState.NOT_WECHAT:
        return redirect("billing:appointment_pay", appointment.pk)
    if state == selectors.CheckoutState.PAID:
        if request.htmx:
            return HttpResponseClientRedirect(
                reverse("billing:appointment_detail", args=[appointment.pk])
            )
        return redirect("billing:appointment_detail", appointment.pk)
    if request.htmx:
        if state != selectors.CheckoutState.PAYABLE:
            return HttpResponseClientRefresh()  # the page says what happened, without the code
        return render(
            request,
            "billing/partials/_wechat_status.html",
            {"appointment": appointment, "checkout": checkout},
        )
    context = {
        "appointment": appointment,
        "schedule": appointment.schedule,
        "checkout": checkout,
        "qr_code": qr_code_data_uri(checkout.code_url) if checkout.code_url else "",
        # WeChat Pay's codes are weixin:// links only its app opens; a stand-in's (the demo's)
        # is a web page, which may as well be opened on this device.
        "web_pay_url": checkout.code_url if checkout.code_url.startswith("http") else "",
        "can_choose": state == selectors.CheckoutState.PAYABLE
        and len(selectors.payment_choices(checkout.order)) > 1,
    }
    status = 503 if state == selectors.CheckoutState.UNAVAILABLE else 200
    return render(request, "billing/wechat_checkout.html", context, status=status)


@require_http_methods(["GET", "POST"])
@member_required
def appointment_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """The cancellation rule and the refund, then the cancellation."""
    appointment = selectors.member_appointment(member=request.member, pk=pk)
    now = timezone.now()
    terms = selectors.cancel_terms(appointment=appointment, by=request.user, now=now)
    error = None
    if request.method == "POST":
        try:
            services.cancel_booking(
                appointment=appointment, by=request.user, reason="会员自行取消", now=now
            )
        except errors.AppointmentError as exc:
            error = exc
        else:
            if terms.refund > 0:
                messages.success(
                    request,
                    _(
                        "Your appointment is cancelled. ¥%(amount)s is on its way back to the "
                        "account you paid from."
                    )
                    % {"amount": terms.refund},
                )
            else:
                messages.success(request, _("Your appointment is cancelled."))
            return redirect("billing:appointment_detail", appointment.pk)
    return render(
        request,
        "billing/appointment_cancel.html",
        {
            "appointment": appointment,
            "schedule": appointment.schedule,
            "terms": terms,
            "error": error or terms.blocker,
            "cutoff_hours": settings.MEDBOOK_CANCEL_CUTOFF_HOURS,
        },
        status=409 if error is not None else 200,
    )


@require_GET
@member_required
def appointment_calendar(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = selectors.member_appointment(member=request.member, pk=pk)
    if not appointment.is_active:
        raise Http404("cancelled appointments have no calendar entry")
    response = HttpResponse(appointment_ics(appointment), content_type="text/calendar")
    response["Content-Disposition"] = f'attachment; filename="medbook-{appointment.pk}.ics"'
    return response


@require_POST
@member_required
@sensitive_consent_required
def waitlist_accept(request: HttpRequest, pk: int) -> HttpResponse:
    """The member takes up the slot their waitlist place was offered: it is booked for the
    place's patient and, for a paid session, on to the cashier within the usual hold. An offer
    that ran out or passed on books nothing (409 with the reason); another member's is a 404."""
    entry = appointment_selectors.waitlist_entry_of(member=request.member, pk=pk)
    if entry is None or entry.offered_schedule is None:
        raise Http404("no such offer")
    appointment = services.accept_offer(member=request.member, entry=entry)
    if selectors.payable_order(appointment, timezone.now()) is not None:
        return redirect("billing:appointment_pay", appointment.pk)
    messages.success(request, _("Booked from the waitlist."))
    return redirect("billing:appointment_detail", appointment.pk)
