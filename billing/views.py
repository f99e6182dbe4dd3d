"""Gateway-facing endpoints."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import services
from .gateways import get_gateway

MAX_NOTIFICATION_BYTES = 64 * 1024


@csrf_exempt  # signed by the gateway instead; no session, no cookies
@require_POST
def gateway_notify(request: HttpRequest, gateway: str) -> HttpResponse:
    adapter = get_gateway(gateway)
    if adapter is None:
        raise Http404("unknown gateway")
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
