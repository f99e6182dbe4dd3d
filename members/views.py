"""Member pages: membership and points, profile, messages, and password reset by text."""

from __future__ import annotations

from typing import Any

from allauth.account import views as allauth_views
from allauth.account.forms import LoginForm
from allauth.core import ratelimit
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from medbook import refusals
from medbook.crypto import blind_index
from medbook.personal_data import mask_phone

from . import lockout, selectors, services
from .account_forms import LoginCodeForm
from .decorators import member_required
from .forms import PasswordResetCodeForm, PasswordResetRequestForm
from .models import Member

PAGE_SIZE = 20
RESET_SESSION_KEY = "medbook_password_reset"


@require_GET
@member_required
def membership(request: HttpRequest) -> HttpResponse:
    member: Member = request.member
    membership = selectors.membership(member=member)
    ledger = Paginator(membership.ledger, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "members/membership.html",
        {
            "member": member,
            "levels": membership.levels,
            "progress": membership.progress,
            "ledger": ledger,
            "cutoff_hours": settings.MEDBOOK_CANCEL_CUTOFF_HOURS,
        },
    )


@require_GET
@member_required
def profile(request: HttpRequest) -> HttpResponse:
    return render(request, "members/profile.html", {"member": request.member})


@require_GET
@member_required
def message_list(request: HttpRequest) -> HttpResponse:
    inbox = selectors.member_messages(member=request.member)
    page = Paginator(inbox, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "members/messages.html", {"page": page})


@require_GET
@member_required
def message_detail(request: HttpRequest, pk: int) -> HttpResponse:
    message = selectors.member_message(member=request.member, pk=pk)
    services.mark_message_read(message=message, now=timezone.now())
    return render(request, "members/message_detail.html", {"message": message})


@require_POST
@member_required
def messages_read_all(request: HttpRequest) -> HttpResponse:
    services.mark_all_messages_read(member=request.member, now=timezone.now())
    return redirect("members:messages")


@login_not_required
def not_offered(request: HttpRequest, *args: object) -> HttpResponse:
    """allauth pages MedBook does not use (e-mail addresses, e-mailed links)."""
    raise Http404("not offered")


@login_not_required
@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    """Step 1: the member gives their number and gets a code by text.

    The answer is the same whether or not the number is registered, so the page tells nobody
    who is a patient here.
    """
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        phone = form.cleaned_data["phone"]
        # The key names the number by its blind index: no number in a cache key.
        key = blind_index(phone, purpose="ratelimit:reset_password")
        if not ratelimit.consume(request, action="reset_password", key=key):
            form.add_error(None, _("Too many codes were requested. Please wait a few minutes."))
            return render(request, "members/password_reset.html", {"form": form}, status=429)
        member = services.send_password_reset_code(phone=phone)
        request.session[RESET_SESSION_KEY] = {
            "member": member.pk if member else None,
            "masked": mask_phone(phone),
        }
        return redirect("members:password_reset_code")
    return render(request, "members/password_reset.html", {"form": form})


@login_not_required
@require_http_methods(["GET", "POST"])
def password_reset_code(request: HttpRequest) -> HttpResponse:
    """Step 2: the code from the text and the new password."""
    pending = request.session.get(RESET_SESSION_KEY)
    if not pending:
        return redirect("members:password_reset")
    member = selectors.member_with_login(pk=pending["member"])
    form = PasswordResetCodeForm(request.POST or None, user=member.user if member else None)
    if request.method == "POST" and form.is_valid():
        with refusals.shown(request, form=form) as refusal:
            services.reset_password(
                member=member,
                code=form.cleaned_data["code"],
                password=form.cleaned_data["password1"],
                request=request,
            )
        if not refusal:
            del request.session[RESET_SESSION_KEY]
            messages.success(request, _("Your password has been changed. Please log in."))
            return redirect("account_login")
    return render(
        request, "members/password_reset_code.html", {"form": form, "masked": pending["masked"]}
    )


class LoginView(allauth_views.LoginView):
    """allauth's login. Past an account's failed-login limit a member is sent on to the page
    that asks for a texted code with the password (members/lockout.py)."""

    def form_invalid(self, form: Any) -> HttpResponse:
        errors = {error.code for error in form.non_field_errors().as_data()}
        key = getattr(self.request, "medbook_login_code_for", None)
        if "login_code_required" in errors and key:
            return _start_login_code(self.request, key)
        response = super().form_invalid(form)
        if "too_many_login_attempts" in errors:
            response.status_code = 429
        return response


login = login_not_required(LoginView.as_view())


class StaffLoginView(LoginView):
    """The console's login: username and password, then the authenticator code (allauth.mfa)."""

    template_name = "staff/login.html"


staff_login = login_not_required(StaffLoginView.as_view())


LOGIN_CODE_SESSION_KEY = "medbook_login_code"


def _start_login_code(request: HttpRequest, key: str) -> HttpResponse:
    sent = lockout.send_login_code(key=key, request=request)
    request.session[LOGIN_CODE_SESSION_KEY] = {
        "key": key,
        "masked": lockout.masked_number(key),
    }
    if not sent:
        messages.info(
            request, _("A code was texted a moment ago. Enter the latest code you received.")
        )
    return redirect("members:login_code")


@login_not_required
@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest) -> HttpResponse:
    """Past the failed-login limit: the texted code and the password, checked together (the
    password only once the code is right)."""
    pending = request.session.get(LOGIN_CODE_SESSION_KEY)
    if not pending:
        return redirect("account_login")
    key = pending["key"]
    if request.method == "POST" and "resend" in request.POST:
        if lockout.send_login_code(key=key, request=request):
            messages.success(request, _("A new code is on its way."))
        else:
            messages.error(request, _("Too many codes were requested. Please wait a few minutes."))
        return redirect("members:login_code")
    form = LoginCodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            if not lockout.check_login_code(
                request=request, key=key, code=form.cleaned_data["code"]
            ):
                form.add_error(
                    "code",
                    _("The code is wrong or has expired. Check the text or ask for a new code."),
                )
            else:
                login_form = LoginForm(
                    data={"login": key, "password": form.cleaned_data["password"]},
                    request=request,
                )
                if login_form.is_valid():
                    lockout.forget_failures(key=key)
                    del request.session[LOGIN_CODE_SESSION_KEY]
                    return login_form.login(request)
                form.add_error(
                    "password",
                    _(
                        "The password is wrong. The code is used up: ask for a new code "
                        "and try again."
                    ),
                )
    return render(
        request,
        "members/login_code.html",
        {"form": form, "masked": pending["masked"]},
        status=status,
    )
