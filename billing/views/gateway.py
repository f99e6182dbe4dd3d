"""Gateway-facing endpoints."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from medbook import throttle
from medbook.middleware import takes_raw_input

from .. import selectors, services
from ..gateways import get_gateway, sandbox

MAX_NOTIFICATION_BYTES = 16 * 1024  # real notifications are 1–3 KB


@takes_raw_input  # stored raw first, whatever it holds (a NUL byte included)
@login_not_required
@csrf_exempt  # signed by the gateway instead; no session, no cookies
@require_POST
def gateway_notify(request: HttpRequest, gateway: str) -> HttpResponse:
    adapter = get_gateway(gateway)
    if adapter is None:
        raise Http404("unknown gateway")
    address = request.META.get("REMOTE_ADDR") or "?"
    if not throttle.allow(scope="gateway-notify", who=address, rate=settings.MEDBOOK_NOTIFY_RATE):
        return HttpResponse("fail", status=429, content_type="text/plain")
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > MAX_NOTIFICATION_BYTES:
        return HttpResponse("fail", status=413, content_type="text/plain")
    if len(request.body) > MAX_NOTIFICATION_BYTES:
        return HttpResponse("fail", status=413, content_type="text/plain")
    notification = services.receive_notification(
        gateway=adapter,
        body=request.body,
        headers=dict(request.headers),
        remote_addr=request.META.get("REMOTE_ADDR"),
    )
    answer = adapter.acknowledge(accepted=notification.outcome in services.ACCEPTED_OUTCOMES)
    return HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)


@login_not_required  # the gateway's page: the signed link is the key
@require_http_methods(["GET", "POST"])
def sandbox_cashier(request: HttpRequest, out_trade_no: str) -> HttpResponse:
    """The sandbox gateway's cashier: the payer confirms or declines the payment."""
    token = request.GET.get("t", "")
    order = sandbox.order_for_token(out_trade_no=out_trade_no, token=token)
    if order is None:
        raise Http404("unknown or expired payment link")
    state = "payable" if sandbox.is_payable(order) else "closed"
    if request.method == "POST" and state == "payable":
        if request.POST.get("action") == "pay":
            sandbox.pay(order=order)
            state = "paid"
        else:
            state = "declined"
    if selectors.sandbox_trade_recorded(out_trade_no=order.out_trade_no):
        state = "paid"
    return render(
        request,
        "billing/sandbox_cashier.html",
        {"order": order, "state": state, "token": token},
    )
