"""How messages reach a member: their channel preferences page, and the SMS providers'
delivery receipts (authenticated by the secret in the address, see ``members.receipts``)."""

from __future__ import annotations

import dataclasses

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from medbook import throttle
from medbook.errors import Invalid

from . import preferences, receipts
from .decorators import member_required
from .forms import ChannelPreferencesForm

MAX_RECEIPT_BYTES = 256 * 1024


@require_http_methods(["GET", "POST"])
@member_required
def channel_preferences(request: HttpRequest) -> HttpResponse:
    member = request.member
    current = preferences.preferences_of(member=member)
    categories = preferences.offered_categories(
        texted_kinds=set(settings.MEDBOOK_TEXT_MESSAGE_KINDS)
    )
    initial = {**dataclasses.asdict(current), "email_address": member.user.email}
    form = ChannelPreferencesForm(request.POST or None, initial=initial, categories=categories)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            preferences.set_preferences(
                member=member,
                choices=preferences.Choices(**form.choices(current)),
                email=form.cleaned_data["email_address"],
                request=request,
            )
            messages.success(request, _("Your notification settings were saved."))
            return redirect("members:channels")
        status = 400
    return render(request, "members/channels.html", {"form": form}, status=status)


@login_not_required
@csrf_exempt  # posted by the provider; the secret in the address authenticates it
@require_POST
def sms_receipt(request: HttpRequest, provider: str) -> HttpResponse:
    """``POST /sms/receipts/<provider>/?token=…``: the token in the query string, which the
    logs never show."""
    if provider not in receipts.PROVIDERS:
        raise Http404("unknown provider")
    if not receipts.token_ok(request.GET.get("token", "")):
        return JsonResponse({"code": 403, "msg": "forbidden"}, status=403)
    address = request.META.get("REMOTE_ADDR") or "?"
    if not throttle.allow(scope="sms-receipt", who=address, rate=settings.MEDBOOK_NOTIFY_RATE):
        return JsonResponse({"code": 429, "msg": "too many requests"}, status=429)
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > MAX_RECEIPT_BYTES:
        return JsonResponse({"code": 413, "msg": "too large"}, status=413)
    try:
        receipts.apply_receipt(provider=provider, body=request.body)
    except Invalid as exc:
        return JsonResponse({"code": 400, "msg": exc.message}, status=400)
    return JsonResponse(receipts.ANSWERS[provider], json_dumps_params={"ensure_ascii": False})
