"""View decorators for member pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from medbook.error_pages import MembersOnly

from .selectors import member_for_user

View = Callable[..., HttpResponse]


def member_required(view: View) -> View:
    """Log in first (anonymous visitors go to the login page), then be a member.

    The member (with level) is put on ``request.member``. Pages with personal data are not
    stored by browsers or proxies.
    """

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        member = member_for_user(user_id=request.user.pk)
        if member is None:
            raise MembersOnly(_("These pages are for members. Staff use the staff console."))
        request.member = member
        response = view(request, *args, **kwargs)
        add_never_cache_headers(response)  # no-cache, no-store, private
        return response

    return wrapped


def sensitive_consent_required(view: View) -> View:
    """Before a booking: a member who has not accepted the current consent to process sensitive
    personal information (health data) is sent to that consent page, then back here. Put it
    under ``member_required`` (it reads ``request.member``)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        from .consents import has_sensitive_consent
        from .middleware import redirect_to_consent

        if not has_sensitive_consent(user=request.user, session=request.session):
            return redirect_to_consent(request, "members:consent_sensitive")
        return view(request, *args, **kwargs)

    return wrapped
