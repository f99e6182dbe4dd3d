"""The staff console's frame: home, logout, the periodic jobs, the operation log, the clinic's
details and the partner systems' webhooks."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import clinic, operations, refusals, selectors
from .forms import ClinicProfileForm, OperationLogFilter, WebhookSubscriptionForm
from .models import WebhookSubscription
from .staff import staff_required
from .webhooks import subscriptions


class StaffLogoutView(auth_views.LogoutView):
    next_page = reverse_lazy("staff:login")


@require_GET
@staff_required()
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "staff/home.html")


@require_GET
@staff_required("django_celery_beat.view_periodictask")
def jobs(request: HttpRequest) -> HttpResponse:
    """Every periodic job with its schedule and last run (schedules are edited in admin)."""
    return render(request, "staff/jobs.html", {"rows": selectors.periodic_jobs()})


@require_GET
@staff_required("medbook.view_operation_log")
def operation_log(request: HttpRequest) -> HttpResponse:
    """Browse the operation log, newest first, filtered by operation, login, outcome and day;
    paged by keyset (``before``/``after`` a row), so a page costs the same at any depth."""
    filters = OperationLogFilter(request.GET)
    page = selectors.operation_log_page(
        rows=selectors.operation_log(**filters.criteria()),
        before=selectors.LogCursor.parse(request.GET.get("before", "")),
        after=selectors.LogCursor.parse(request.GET.get("after", "")),
    )
    query = request.GET.copy()
    for key in ("page", "before", "after"):
        query.pop(key, None)
    return render(
        request,
        "staff/operation_log.html",
        {
            "page": page,
            "filters": filters.shown(),
            "outcomes": selectors.OUTCOME_CHOICES,
            "areas": operations.AREAS,
            "actions": operations.action_choices(),
            "extra": query.urlencode(),
        },
    )


@require_http_methods(["GET", "POST"])
@staff_required("medbook.change_clinicprofile")
def clinic_profile(request: HttpRequest) -> HttpResponse:
    """诊所信息: the name, address, phone and opening hours patients see on every page."""
    form = ClinicProfileForm(request.POST or None, initial=clinic.clinic_profile())
    if request.method == "POST" and form.is_valid():
        clinic.update_clinic_profile(data=form.cleaned_data, by=request.user, request=request)
        messages.success(request, _("The clinic's details are saved."))
        return redirect("staff:clinic")
    context = {"form": form, "title": _("Clinic details"), "back": reverse("staff:home")}
    status = 400 if request.method == "POST" else 200
    return render(request, "staff/form.html", context, status=status)


# -- webhooks for partner systems ---------------------------------------------------------------

WEBHOOKS = "medbook.manage_webhooks"


def _subscription_or_404(pk: int) -> WebhookSubscription:
    found = subscriptions.subscription(pk=pk)
    if found is None:
        raise Http404("no such subscription")
    return found


def _show_secret(request: HttpRequest, subscription: WebhookSubscription, secret: str):
    """The secret, this once (the page is never stored: see staff_required)."""
    return render(
        request, "staff/webhook_secret.html", {"subscription": subscription, "secret": secret}
    )


@require_GET
@staff_required(WEBHOOKS)
def webhooks(request: HttpRequest) -> HttpResponse:
    """Webhook subscriptions of partner systems."""
    return render(request, "staff/webhooks.html", {"rows": subscriptions.subscriptions()})


@require_http_methods(["GET", "POST"])
@staff_required(WEBHOOKS)
def webhook_new(request: HttpRequest) -> HttpResponse:
    form = WebhookSubscriptionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusals.shown(request, form=form) as refusal:
            subscription, secret = subscriptions.create_subscription(
                **form.cleaned_data, by=request.user, request=request
            )
        if not refusal:
            return _show_secret(request, subscription, secret)
    context = {"form": form, "title": _("New webhook"), "back": reverse("staff:webhooks")}
    return render(request, "staff/form.html", context, status=400 if form.errors else 200)


@require_GET
@staff_required(WEBHOOKS)
def webhook(request: HttpRequest, pk: int) -> HttpResponse:
    """A subscription and its deliveries, newest first, each with its attempts."""
    subscription = _subscription_or_404(pk)
    deliveries = subscriptions.deliveries_of(subscription=subscription)
    page = Paginator(deliveries, 25).get_page(request.GET.get("page"))
    return render(request, "staff/webhook.html", {"subscription": subscription, "page": page})


@require_http_methods(["GET", "POST"])
@staff_required(WEBHOOKS)
def webhook_edit(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = _subscription_or_404(pk)
    initial = {
        "url": subscription.url,
        "description": subscription.description,
        "events": subscription.events,
        "active": subscription.active,
    }
    form = WebhookSubscriptionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        with refusals.shown(request, form=form) as refusal:
            subscriptions.update_subscription(
                subscription=subscription, **form.cleaned_data, by=request.user, request=request
            )
        if not refusal:
            messages.success(request, _("The webhook is saved."))
            return redirect("staff:webhook", pk)
    context = {
        "form": form,
        "title": _("Edit webhook"),
        "back": reverse("staff:webhook", args=[pk]),
    }
    return render(request, "staff/form.html", context, status=400 if form.errors else 200)


@require_POST
@staff_required(WEBHOOKS)
def webhook_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = _subscription_or_404(pk)
    secret = subscriptions.rotate_secret(
        subscription=subscription, by=request.user, request=request
    )
    return _show_secret(request, subscription, secret)


@require_POST
@staff_required(WEBHOOKS)
def webhook_resend(request: HttpRequest, pk: int, delivery: int) -> HttpResponse:
    """Send a delivery again: a new attempt with the same event id."""
    subscription = _subscription_or_404(pk)
    found = subscriptions.delivery_of(subscription=subscription, pk=delivery)
    if found is None:
        raise Http404("no such delivery")
    with refusals.shown(request) as refusal:
        subscriptions.resend_delivery(delivery=found, by=request.user, request=request)
    if not refusal:
        messages.success(request, _("The event is being sent again."))
    return redirect("staff:webhook", pk)
