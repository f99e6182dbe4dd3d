"""The page of a queued booking attempt (billing.booking_queue): where it stands, from Redis."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from django_htmx.http import HttpResponseClientRedirect

from medbook.middleware import SESSION_KIND

from .. import booking_queue


@require_GET
@login_required
def book_queue_status(request: HttpRequest, schedule_id: int) -> HttpResponse:
    """The member's own queued attempt on a session: the page (or, polled by htmx, its part)
    while it waits, the pay page once booked, the refusal in words. Read from the session and
    Redis alone (no query while it waits); another member's attempt cannot be named here."""
    if request.session.get(SESSION_KIND) != "member":
        raise PermissionDenied(_("These pages are for members. Staff use the staff console."))
    queued = booking_queue.status(schedule_id=schedule_id, user_id=request.user.pk)
    if queued is None:
        raise Http404("no queued booking attempt")
    if queued.state == "booked":
        go = HttpResponseClientRedirect if request.htmx else redirect
        response = go(queued.next)
    else:
        page = booking_queue.status_page(
            schedule_id=schedule_id, queued=queued, partial=bool(request.htmx)
        )
        response = HttpResponse(page)
    add_never_cache_headers(response)
    return response
