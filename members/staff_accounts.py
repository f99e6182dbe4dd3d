"""Staff console: a clinic admin recovers a staff login (clears its failed logins, resets its
authenticator so it is set up again at the next login). Every reset is in the operation log."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from medbook.staff import staff_required

from . import lockout

PERMISSION = "members.change_user"


@require_GET
@staff_required(PERMISSION)
def staff_accounts(request: HttpRequest) -> HttpResponse:
    return render(
        request, "staff/staff_accounts.html", {"rows": lockout.staff_logins(viewer=request.user)}
    )


@require_POST
@staff_required(PERMISSION)
def staff_account_reset(request: HttpRequest, pk: int) -> HttpResponse:
    user = lockout.staff_login(pk=pk, by=request.user)
    if user is None:
        raise Http404("no such staff login")
    reset_authenticator = request.POST.get("authenticator") == "1"
    lockout.reset_staff_login(
        user=user, by=request.user, reset_authenticator=reset_authenticator, request=request
    )
    if reset_authenticator:
        messages.success(
            request,
            _(
                "%(name)s's failed logins are cleared and their authenticator is removed: "
                "they set up a new one at their next login."
            )
            % {"name": user.get_username()},
        )
    else:
        messages.success(
            request, _("%(name)s's failed logins are cleared.") % {"name": user.get_username()}
        )
    return redirect("staff:staff_accounts")
