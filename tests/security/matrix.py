"""The permission matrix: every route × method × role → what must come back.

Roles: anonymous, member A (owns the objects), member B, front desk, doctor (owns the session),
clinic admin, superuser. Expectations are a status code or where the visitor is sent:
``L`` the member login, ``S`` the staff login, ``A`` the admin login.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver

ROLES = ["anonymous", "member_a", "member_b", "front_desk", "doctor", "clinic_admin", "superuser"]
L, S, A = "member-login", "staff-login", "admin-login"

ALL_200 = [200] * 7
ALL_302 = [302] * 7
ALL_404 = [404] * 7
MEMBER_PAGE = [L, 200, 200, 403, 403, 403, 403]
MEMBER_POST = [L, 302, 302, 403, 403, 403, 403]
OWN_PAGE = [L, 200, 404, 403, 403, 403, 403]  # member A's object; B gets a 404, ids leak nothing
OWN_POST = [L, 302, 404, 403, 403, 403, 403]
DESK_PAGE = [S, 403, 403, 200, 403, 200, 200]
DESK_POST = [S, 403, 403, 302, 403, 302, 302]
DOCTOR_PAGE = [S, 403, 403, 403, 200, 200, 200]
DOCTOR_POST = [S, 403, 403, 403, 302, 302, 302]
ADMIN_PAGE = [S, 403, 403, 403, 403, 200, 200]
ADMIN_POST = [S, 403, 403, 403, 403, 302, 302]
LOGGED_IN = [L, 200, 200, 200, 200, 200, 200]
ANON_ONLY = [200, 302, 302, 302, 302, 302, 302]
DJANGO_ADMIN = [A, A, A, A, A, A, 200]
# The API (routes named api:…): each role calls with its own bearer token (staff logged in with
# their second factor), JSON bodies; the anonymous visitor sends none.
API_400 = [400] * 7
API_MEMBER = [401, 200, 200, 403, 403, 403, 403]
API_LOGGED_IN_204 = [401, 204, 204, 204, 204, 204, 204]

# route name -> [(method, argument key, POST data, expectations in ROLES order)]
MATRIX: dict[str, list[tuple[str, str | None, dict, list]]] = {
    # Public pages
    "appointments:home": [("get", None, {}, ALL_200)],
    "appointments:doctor_detail": [("get", "doctor", {}, ALL_200)],
    "waiting_room": [("get", "department", {}, ALL_200)],
    "favicon": [("get", None, {}, [301] * 7)],
    "set_language": [("post", None, {"language": "en"}, ALL_302), ("get", None, {}, ALL_302)],
    "billing:gateway_notify": [("post", "gateway", {"x": "1"}, [400] * 7)],
    "billing:sandbox_cashier": [("get", "out_trade_no", {}, ALL_404)],  # no signed token
    # Member portal
    "billing:book": [
        ("get", "open_schedule", {}, MEMBER_PAGE),
        # Member A already holds the two upcoming appointments their level allows: refused.
        ("post", "open_schedule", {}, [L, 409, 302, 403, 403, 403, 403]),
    ],
    "billing:appointments": [("get", None, {}, MEMBER_PAGE)],
    "billing:appointment_detail": [("get", "a_future", {}, OWN_PAGE)],
    "billing:appointment_pay": [("get", "a_future", {}, OWN_POST)],
    "billing:appointment_cancel": [
        ("get", "a_future", {}, OWN_PAGE),
        ("post", "a_future", {}, OWN_POST),
    ],
    "billing:appointment_calendar": [("get", "a_future", {}, OWN_PAGE)],
    "members:membership": [("get", None, {}, MEMBER_PAGE)],
    "members:profile": [("get", None, {}, MEMBER_PAGE)],
    "members:messages": [("get", None, {}, MEMBER_PAGE)],
    "members:message_detail": [("get", "message", {}, OWN_PAGE)],
    "members:messages_read_all": [("post", None, {}, MEMBER_POST)],
    # Accounts
    "members:password_reset": [("get", None, {}, ALL_200)],
    "members:password_reset_code": [("get", None, {}, ALL_302)],
    "members:login_code": [("get", None, {}, ALL_302)],  # no login waiting for a code
    "members:no_email": [("get", None, {}, ALL_404)],
    "members:no_email_confirmation": [("get", None, {}, ALL_404)],
    "members:no_email_reset": [("get", "done", {}, ALL_404)],
    "members:no_password_set": [("get", None, {}, ALL_404)],
    "members:no_login_code": [("get", None, {}, ALL_404)],
    "account_login": [("get", None, {}, ANON_ONLY)],
    "members:login": [("get", None, {}, ANON_ONLY)],
    "account_signup": [("get", None, {}, ANON_ONLY)],
    "account_logout": [("get", None, {}, [302, *[200] * 6]), ("post", None, {}, ALL_302)],
    "account_inactive": [("get", None, {}, ALL_200)],
    "account_reauthenticate": [("get", None, {}, LOGGED_IN)],
    "account_change_password": [("get", None, {}, LOGGED_IN)],
    "account_change_phone": [("get", None, {}, LOGGED_IN)],
    "account_verify_phone": [("get", None, {}, ALL_302)],  # nothing to verify: sent on
    "account_reset_password": [("get", None, {}, ALL_200)],  # MedBook's own, by text
    # allauth's e-mail routes, shadowed by MedBook's 404s
    "account_email": [("get", None, {}, ALL_404)],
    "account_email_verification_sent": [("get", None, {}, ALL_404)],
    "account_confirm_email": [("get", "key", {}, ALL_404)],
    "account_set_password": [("get", None, {}, ALL_404)],
    "account_confirm_login_code": [("get", None, {}, ALL_404)],
    "account_reset_password_done": [("get", None, {}, ALL_404)],
    "account_reset_password_from_key": [("get", "uid_key", {}, ALL_404)],
    "account_reset_password_from_key_done": [("get", None, {}, ALL_404)],
    # Two-factor authentication (allauth.mfa): changes ask for the password again first
    "mfa_index": [("get", None, {}, LOGGED_IN)],
    "mfa_activate_totp": [("get", None, {}, [L, 302, 302, 302, 302, 302, 302])],
    "mfa_deactivate_totp": [("get", None, {}, [L, 404, 404, 302, 302, 302, 302])],
    "mfa_authenticate": [("get", None, {}, ALL_302)],  # no login waiting for a code
    "mfa_reauthenticate": [("get", None, {}, [L, 302, 302, 200, 200, 200, 200])],
    "mfa_generate_recovery_codes": [("get", None, {}, [L, *[302] * 6])],
    "mfa_view_recovery_codes": [("get", None, {}, [L, *[404] * 6])],
    "mfa_download_recovery_codes": [("get", None, {}, [L, *[404] * 6])],
    # Staff console
    "staff:login": [("get", None, {}, ANON_ONLY)],
    "staff:logout": [("post", None, {}, ALL_302)],
    "staff:home": [("get", None, {}, [S, 403, 403, 200, 200, 200, 200])],
    "staff:jobs": [("get", None, {}, ADMIN_PAGE)],
    "staff:operation_log": [("get", None, {}, ADMIN_PAGE)],
    "staff:staff_accounts": [("get", None, {}, ADMIN_PAGE)],
    "staff:staff_account_reset": [("post", "front_desk_user", {}, ADMIN_POST)],
    "staff:today": [("get", None, {}, DESK_PAGE)],
    "staff:check_in": [
        ("get", None, {}, DESK_PAGE),
        ("post", None, {"phone": "13800138000"}, DESK_POST),  # posted: no number in addresses
    ],
    "staff:walk_in": [("get", None, {}, DESK_PAGE)],
    "staff:members": [("get", None, {}, DESK_PAGE), ("post", None, {"q": "张"}, DESK_POST)],
    "staff:member": [("get", "member_a", {}, DESK_PAGE)],
    "staff:member_book": [("post", "member_a", {"schedule": "open_schedule"}, DESK_POST)],
    "staff:appointment": [("get", "a_future", {}, DESK_PAGE)],
    "staff:appointment_check_in": [("post", "a_today", {}, DESK_POST)],
    "staff:appointment_counter_payment": [("post", "a_future", {}, DESK_POST)],
    "staff:appointment_cancel": [("post", "a_future", {"reason": "来电取消"}, DESK_POST)],
    "staff:queue": [("get", None, {}, DOCTOR_PAGE)],
    "staff:call_next": [("post", "today_schedule", {}, DOCTOR_POST)],
    "staff:appointment_complete": [("post", "a_today", {}, DOCTOR_POST)],
    "staff:appointment_no_show": [("post", "a_today", {}, DOCTOR_POST)],
    "staff:schedules": [("get", None, {}, ADMIN_PAGE)],
    "staff:schedule_edit": [("get", "today_schedule", {}, ADMIN_PAGE)],
    "staff:schedule_suspend": [("post", "open_schedule", {"reason": "停诊"}, ADMIN_POST)],
    "staff:templates": [("get", None, {}, ADMIN_PAGE)],
    "staff:doctors": [("get", None, {}, ADMIN_PAGE)],
    "staff:doctor_new": [("get", None, {}, ADMIN_PAGE)],
    "staff:doctor_edit": [("get", "doctor", {}, ADMIN_PAGE)],
    "staff:levels": [("get", None, {}, ADMIN_PAGE)],
    "staff:level_edit": [("get", "level", {}, ADMIN_PAGE)],
    # Reports: clinic admins and finance (finance's own rows: tests/reports/test_permissions.py)
    "staff:reports": [("get", None, {}, ADMIN_PAGE)],
    "staff:clinic": [
        ("get", None, {}, ADMIN_PAGE),
        ("post", None, {"name": "诊所", "address": "", "phone": "", "hours": ""}, ADMIN_POST),
    ],
    "staff:reports_bookings": [("get", None, {}, ADMIN_PAGE)],
    "staff:reports_noshows": [("get", None, {}, ADMIN_PAGE)],
    "staff:reports_revenue": [("get", None, {}, ADMIN_PAGE)],
    "staff:reports_releases": [("get", None, {}, ADMIN_PAGE)],
    "staff:reports_flow": [("get", None, {}, ADMIN_PAGE)],
    # Exports: asked for and listed like the reports; one export (the clinic admin's) answers
    # its requester and whoever may download anyone's, and is "not found" for everyone else
    "staff:reports_exports": [("get", None, {}, ADMIN_PAGE)],
    "staff:reports_export_new": [
        ("post", None, {"dashboard": "bookings", "kind": "tables", "format": "csv"}, ADMIN_POST)
    ],
    "staff:reports_export": [("get", "export", {}, [S, 404, 404, 404, 404, 200, 200])],
    "staff:reports_export_download": [("get", "export", {}, [S, 404, 404, 404, 404, 200, 200])],
    "staff:reports_members": [("get", None, {}, ADMIN_PAGE)],
    # The API (/api/): its description, logins, the member's own data, the catalogue
    "api:schema": [("get", None, {}, ALL_200)],
    "api:docs": [("get", None, {}, ALL_200)],
    "api:auth_token": [("post", None, {}, API_400)],
    "api:auth_token_refresh": [("post", None, {}, API_400), ("get", None, {}, [405] * 7)],
    "api:auth_logout": [("post", None, {}, API_LOGGED_IN_204)],
    "api:auth_signup_code": [("post", None, {}, API_400)],
    "api:auth_signup": [("post", None, {}, API_400)],
    "api:me": [
        ("get", None, {}, API_MEMBER),
        ("post", None, {}, [401, 405, 405, 403, 403, 403, 403]),
    ],
    "api:messages": [("get", None, {}, API_MEMBER)],
    "api:message": [("get", "message", {}, [401, 200, 404, 403, 403, 403, 403])],
    "api:messages_read_all": [("post", None, {}, [401, 204, 204, 403, 403, 403, 403])],
    "api:departments": [("get", None, {}, ALL_200), ("post", None, {}, [405] * 7)],
    "api:doctors": [("get", None, {}, ALL_200)],
    "api:doctor": [("get", "doctor", {}, ALL_200)],
    "api:doctor_sessions": [("get", "doctor", {}, ALL_200)],
    # Django admin: every route under admin/ behaves like these (superusers only)
    "admin:*": [
        ("get", "admin:index", {}, DJANGO_ADMIN),
        ("get", "admin:members_member_changelist", {}, DJANGO_ADMIN),
        ("get", "admin:billing_order_changelist", {}, DJANGO_ADMIN),
    ],
}


def route_names(urlconf: str | None = None) -> set[str]:
    """Every named route of the project; Django admin's count as one (``admin:*``)."""
    names: set[str] = set()

    def walk(patterns: list, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
                walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern):
                if namespace.startswith("admin:"):
                    names.add("admin:*")
                else:
                    names.add(namespace + (pattern.name or f"<unnamed {pattern.pattern}>"))

    walk(get_resolver(urlconf).url_patterns, "")
    return names


def routes_without_a_row(urlconf: str | None = None) -> list[str]:
    return sorted(route_names(urlconf) - set(MATRIX))
