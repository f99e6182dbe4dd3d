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
REPORTS_PAGE = [S, 404, 404, 403, 403, 200, 200]  # a member is told the reports don't exist
REPORTS_POST = [S, 404, 404, 403, 403, 302, 302]
LOGGED_IN = [L, 200, 200, 200, 200, 200, 200]
ANON_ONLY = [200, 302, 302, 302, 302, 302, 302]
DJANGO_ADMIN = [A, A, A, A, A, A, 200]
# The API (routes named api:…): each role calls with its own bearer token (staff logged in with
# their second factor), JSON bodies; the anonymous visitor sends none.
API_400 = [400] * 7
API_MEMBER = [401, 200, 200, 403, 403, 403, 403]
API_LOGGED_IN_204 = [401, 204, 204, 204, 204, 204, 204]
API_STAFF_DAY = [401, 403, 403, 200, 200, 200, 200]  # the desk and admins: all; a doctor: own
API_QUEUE = [401, 403, 403, 403, 200, 200, 200]  # the doctor's own queue; admins any
API_OWN = [401, 200, 404, 403, 403, 403, 403]  # member A's object; B gets a 404
FHIR_READ = [401, 200, 200, 200, 200, 200, 200]

WEBHOOK_FORM = {"url": "https://93.184.216.34/hook", "events": "appointment.booked", "active": "on"}

# route name -> [(method, argument key, POST data, expectations in ROLES order)]
MATRIX: dict[str, list[tuple[str, str | None, dict, list]]] = {
    # Public pages
    "appointments:home": [("get", None, {}, ALL_200)],
    "appointments:doctor_detail": [("get", "doctor", {}, ALL_200)],
    "appointments:department_dates": [("get", "department", {}, ALL_200)],
    # Symptom triage: public; a description is posted (nothing written), an empty one is a 400
    "triage:triage": [
        ("get", None, {}, ALL_200),
        ("post", None, {"symptoms": "胸闷 心慌 两天"}, ALL_200),
        ("post", None, {"symptoms": ""}, [400] * 7),
    ],
    # "Doctors for you" on the home page: a member's own; staff logins have none (204)
    "triage:for_you": [("get", None, {}, [L, 200, 200, 204, 204, 204, 204])],
    "waiting_room": [("get", "department", {}, ALL_200)],
    "waiting_room_state": [("get", "department", {}, ALL_200)],
    "waiting_clinic": [("get", None, {}, ALL_200)],
    "waiting_clinic_state": [("get", None, {}, ALL_200)],
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
    # 放号提醒: set on a session not yet open (again for A: the waiting one), listed, cancelled.
    "appointments:reminder_set": [("post", "later_schedule", {}, MEMBER_POST)],
    "appointments:reminders": [("get", None, {}, MEMBER_PAGE)],
    "appointments:reminder_cancel": [("post", "reminder", {}, OWN_POST)],
    # 候补: A joins a sold-out session's waitlist for their child (B may not name A's child:
    # 400), lists it, takes up the offer held for the child (on to the cashier) or leaves.
    "appointments:waitlist_join": [
        ("post", "full_schedule", {"patient": "patient"}, [L, 302, 400, 403, 403, 403, 403])
    ],
    "appointments:waitlist": [("get", None, {}, MEMBER_PAGE)],
    "appointments:waitlist_leave": [("post", "waitlist_offer", {}, OWN_POST)],
    "billing:waitlist_accept": [("post", "waitlist_offer", {}, OWN_POST)],
    "billing:appointment_detail": [("get", "a_future", {}, OWN_PAGE)],
    "billing:appointment_pay": [
        ("get", "a_future", {}, OWN_POST),
        # The member's choice of gateway: only the sandbox here, so nothing to switch.
        ("post", "a_future", {"gateway": "sandbox"}, OWN_POST),
    ],
    # A's order pays through the sandbox here: sent on to its cashier (the QR page with a
    # WeChat order: tests/portal/test_wechat_checkout.py).
    "billing:wechat_checkout": [("get", "a_future", {}, OWN_POST)],
    "billing:appointment_cancel": [
        ("get", "a_future", {}, OWN_PAGE),
        ("post", "a_future", {}, OWN_POST),
    ],
    "billing:appointment_calendar": [("get", "a_future", {}, OWN_PAGE)],
    # 改约: A's booking may move, but not to another doctor's session (400, nothing written).
    "billing:appointment_reschedule": [
        ("get", "a_future", {}, OWN_PAGE),
        ("post", "a_future", {"schedule": "open_schedule"}, [L, 400, 404, 403, 403, 403, 403]),
    ],
    "members:membership": [("get", None, {}, MEMBER_PAGE)],
    "members:profile": [("get", None, {}, MEMBER_PAGE)],
    "members:messages": [("get", None, {}, MEMBER_PAGE)],
    # Channel preferences: the member's own; a bad address is a 400
    "members:channels": [
        ("get", None, {}, MEMBER_PAGE),
        ("post", None, {"sms_reminders": "on"}, MEMBER_POST),
        ("post", None, {"email_address": "no address"}, [L, 400, 400, 403, 403, 403, 403]),
    ],
    # SMS delivery receipts: the provider's, authenticated by the secret token in the query
    # string (tests/members/test_sms_providers.py); without it, a 403 for anyone
    "members:sms_receipt": [
        ("post", "sms_provider", {"x": "1"}, [403] * 7),
        ("get", "sms_provider", {}, [405] * 7),
    ],
    "members:message_detail": [("get", "message", {}, OWN_PAGE)],
    "members:messages_read_all": [("post", None, {}, MEMBER_POST)],
    # Patients (就诊人): A's child (``patient``); B gets a 404 for it
    "members:patients": [("get", None, {}, MEMBER_PAGE)],
    # The health record: the account's patients' visit records; another account's is a 404
    "records:list": [("get", None, {}, MEMBER_PAGE)],
    "records:detail": [("get", "visit_record", {}, OWN_PAGE)],
    "records:pdf": [("get", "visit_record", {}, OWN_PAGE)],
    "members:patient_add": [
        ("get", None, {}, MEMBER_PAGE),
        ("post", None, {}, [L, 400, 400, 403, 403, 403, 403]),  # nothing entered: bad input
    ],
    "members:patient_edit": [
        ("get", "patient", {}, OWN_PAGE),
        ("post", "patient", {}, [L, 400, 404, 403, 403, 403, 403]),  # nothing entered
    ],
    # The patient's medical-insurance card: nothing entered is bad input
    "members:patient_insurance": [
        ("get", "patient", {}, OWN_PAGE),
        ("post", "patient", {}, [L, 400, 404, 403, 403, 403, 403]),
    ],
    "members:patient_remove": [
        ("get", "patient", {}, OWN_PAGE),
        ("post", "patient", {}, OWN_POST),
    ],
    # Consent (members A and B accepted every current version: sent on to where they were)
    "members:legal": [("get", "agreement_kind", {}, ALL_200)],
    "members:consent": [("get", None, {}, MEMBER_POST), ("post", None, {}, MEMBER_POST)],
    "members:consent_sensitive": [("get", None, {}, MEMBER_POST), ("post", None, {}, MEMBER_POST)],
    # Privacy: the download is a ZIP; closing without the password is refused (400)
    "privacy:export": [
        ("get", None, {}, MEMBER_PAGE),
        ("post", None, {}, [L, 200, 200, 403, 403, 403, 403]),
    ],
    "privacy:close": [
        ("get", None, {}, MEMBER_PAGE),
        ("post", None, {}, [L, 400, 400, 403, 403, 403, 403]),
    ],
    # Real-name verification of member A's patient (the sandbox matches it: sent back, 302)
    "identity:verify_patient": [
        ("get", "patient_a", {}, OWN_PAGE),
        ("post", "patient_a", {}, OWN_POST),
    ],
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
    "staff:today": [
        ("get", None, {}, DESK_PAGE),
        ("post", None, {"q": "13800138000"}, DESK_POST),  # posted, kept in the session
    ],
    # Keyboard check-in: nobody has number 99 today, so the desk is told so (404).
    "staff:board_check_in": [("post", None, {"number": "99"}, [S, 403, 403, 404, 403, 404, 404])],
    "staff:check_in": [
        ("get", None, {}, DESK_PAGE),
        ("post", None, {"phone": "13800138000"}, DESK_POST),  # posted: no number in addresses
    ],
    "staff:walk_in": [("get", None, {}, DESK_PAGE)],
    "staff:members": [("get", None, {}, DESK_PAGE), ("post", None, {"q": "张"}, DESK_POST)],
    "staff:member": [("get", "member_a", {}, DESK_PAGE)],
    # The desk adds a patient for member A: nothing entered is bad input (400)
    "staff:member_patient_add": [
        ("get", "member_a", {}, DESK_PAGE),
        ("post", "member_a", {}, [S, 403, 403, 400, 403, 400, 400]),
    ],
    # The desk confirms it saw the original ID document (a form without the tick: 400)
    "staff:patient_verify_in_person": [
        ("get", "patient_a", {}, DESK_PAGE),
        ("post", "patient_a", {"document_seen": "on"}, DESK_POST),
        ("post", "patient_a", {}, [S, 403, 403, 400, 403, 400, 400]),
    ],
    "staff:member_book": [("post", "member_a", {"schedule": "open_schedule"}, DESK_POST)],
    "staff:appointment": [("get", "a_future", {}, DESK_PAGE)],
    "staff:appointment_check_in": [("post", "a_today", {}, DESK_POST)],
    "staff:appointment_counter_payment": [("post", "a_future", {}, DESK_POST)],
    "staff:unpaid_holds": [("get", None, {}, DESK_PAGE)],
    "staff:appointment_cancel": [("post", "a_future", {"reason": "来电取消"}, DESK_POST)],
    "staff:appointment_reschedule": [
        ("get", "a_future", {}, DESK_PAGE),
        # Another department's session: refused on the page (400) for whoever may move it.
        (
            "post",
            "a_future",
            {"schedule": "open_schedule", "reason": "停诊"},
            [S, 403, 403, 400, 403, 400, 400],
        ),
    ],
    "staff:queue": [("get", None, {}, DOCTOR_PAGE)],
    "staff:call_next": [("post", "today_schedule", {}, DOCTOR_POST)],
    "staff:appointment_complete": [("post", "a_today", {}, DOCTOR_POST)],
    # Visit records: the doctor writes one (completing the visit); the desk reads and prints
    # any (each view logged); the doctor their own patients'.
    "staff:appointment_record": [
        ("get", "a_today", {}, DOCTOR_PAGE),
        ("post", "a_today", {"chief_complaint": "咳嗽", "diagnosis_code": "J06.9"}, DOCTOR_POST),
        (
            "post",
            "a_today",
            {"chief_complaint": "咳嗽", "diagnosis_code": "X"},
            [S, 403, 403, 403, 400, 400, 400],
        ),
    ],
    "staff:diagnosis_search": [("get", None, {"q": "gxy"}, DOCTOR_PAGE)],
    "staff:record": [("get", "visit_record", {}, [S, 403, 403, 200, 200, 200, 200])],
    "staff:record_pdf": [("get", "visit_record", {}, [S, 403, 403, 200, 200, 200, 200])],
    "staff:appointment_no_show": [("post", "a_today", {}, DOCTOR_POST)],
    "staff:appointment_recall": [("post", "a_today", {}, DOCTOR_POST)],
    "staff:appointment_skip": [("post", "a_today", {}, DOCTOR_POST)],
    "staff:displays": [("get", None, {}, DESK_PAGE)],
    "staff:schedules": [("get", None, {}, ADMIN_PAGE)],
    "staff:schedule_edit": [("get", "today_schedule", {}, ADMIN_PAGE)],
    "staff:schedule_suspend": [("post", "open_schedule", {"reason": "停诊"}, ADMIN_POST)],
    "staff:templates": [("get", None, {}, ADMIN_PAGE)],
    "staff:doctors": [("get", None, {}, ADMIN_PAGE)],
    "staff:doctor_new": [("get", None, {}, ADMIN_PAGE)],
    "staff:doctor_edit": [("get", "doctor", {}, ADMIN_PAGE)],
    "staff:department_edit": [("get", "department", {}, ADMIN_PAGE)],
    "staff:levels": [("get", None, {}, ADMIN_PAGE)],
    "staff:level_edit": [("get", "level", {}, ADMIN_PAGE)],
    # Reports: clinic admins and finance (finance's own rows: tests/reports/test_permissions.py)
    "staff:reports": [("get", None, {}, REPORTS_PAGE)],
    "staff:clinic": [
        ("get", None, {}, ADMIN_PAGE),
        ("post", None, {"name": "诊所", "address": "", "phone": "", "hours": ""}, ADMIN_POST),
    ],
    # Webhooks for partner systems (clinic admins); a new or rotated secret is shown on the
    # answer to the POST itself (200), once
    "staff:webhooks": [("get", None, {}, ADMIN_PAGE)],
    "staff:webhook_new": [
        ("get", None, {}, ADMIN_PAGE),
        ("post", None, WEBHOOK_FORM, [S, 403, 403, 403, 403, 200, 200]),
    ],
    "staff:webhook": [("get", "webhook", {}, ADMIN_PAGE)],
    "staff:webhook_edit": [
        ("get", "webhook", {}, ADMIN_PAGE),
        ("post", "webhook", WEBHOOK_FORM, ADMIN_POST),
    ],
    "staff:webhook_rotate": [
        ("post", "webhook", {}, [S, 403, 403, 403, 403, 200, 200]),
        ("get", "webhook", {}, [S, 405, 405, 405, 405, 405, 405]),
    ],
    "staff:webhook_resend": [("post", "webhook_delivery", {}, ADMIN_POST)],
    "staff:reports_bookings": [("get", None, {}, REPORTS_PAGE)],
    "staff:reports_noshows": [("get", None, {}, REPORTS_PAGE)],
    "staff:reports_revenue": [("get", None, {}, REPORTS_PAGE)],
    "staff:reports_releases": [("get", None, {}, REPORTS_PAGE)],
    "staff:reports_flow": [("get", None, {}, REPORTS_PAGE)],
    # Exports: asked for and listed like the reports; one export (the clinic admin's) answers
    # its requester and whoever may download anyone's, and is "not found" for everyone else
    "staff:reports_exports": [("get", None, {}, REPORTS_PAGE)],
    "staff:reports_export_new": [
        ("post", None, {"dashboard": "bookings", "kind": "tables", "format": "csv"}, REPORTS_POST)
    ],
    "staff:reports_export": [("get", "export", {}, [S, 404, 404, 404, 404, 200, 200])],
    "staff:reports_export_download": [("get", "export", {}, [S, 404, 404, 404, 404, 200, 200])],
    "staff:reports_members": [("get", None, {}, REPORTS_PAGE)],
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
        ("patch", None, {}, [401, 400, 400, 403, 403, 403, 403]),  # no number: bad input
    ],
    "api:consents": [
        ("get", None, {}, API_MEMBER),
        ("post", None, {}, [401, 400, 400, 403, 403, 403, 403]),  # no kinds named
    ],
    "api:membership": [("get", None, {}, API_MEMBER)],
    "api:membership_points": [("get", None, {}, API_MEMBER)],
    "api:messages": [("get", None, {}, API_MEMBER)],
    "api:message": [("get", "message", {}, [401, 200, 404, 403, 403, 403, 403])],
    "api:messages_read_all": [("post", None, {}, [401, 204, 204, 403, 403, 403, 403])],
    "api:patients": [
        ("get", None, {}, API_MEMBER),
        ("post", None, {}, [401, 400, 400, 403, 403, 403, 403]),  # nothing sent: bad input
    ],
    "api:patient": [
        ("get", "patient", {}, API_OWN),
        ("patch", "patient", {"phone": "13912340077"}, API_OWN),
        ("delete", "patient", {}, [401, 204, 404, 403, 403, 403, 403]),
    ],
    "api:departments": [("get", None, {}, ALL_200), ("post", None, {}, [405] * 7)],
    "api:doctors": [("get", None, {}, ALL_200)],
    "api:doctor": [("get", "doctor", {}, ALL_200)],
    "api:doctor_sessions": [("get", "doctor", {}, ALL_200)],
    # The clinic day for staff: member A's number 1 is checked in already (409 where allowed)
    "api:staff_today": [("get", None, {}, API_STAFF_DAY)],
    "api:staff_today_totals": [("get", None, {}, API_STAFF_DAY)],
    "api:staff_check_in": [
        (
            "post",
            None,
            {"schedule": "today_schedule", "number": 1},
            [401, 403, 403, 409, 403, 409, 409],
        ),
        ("get", None, {}, [401, 403, 403, 405, 403, 405, 405]),
    ],
    "api:staff_call_next": [
        ("post", "today_schedule", {}, API_QUEUE),
        ("post", "open_schedule", {}, [401, 403, 403, 403, 404, 200, 200]),  # not the doctor's
    ],
    "api:staff_appointment_complete": [
        ("post", "a_today", {}, API_QUEUE),
        ("post", "a_future", {}, [401, 403, 403, 403, 404, 409, 409]),  # not theirs; unpaid
    ],
    "api:staff_appointment_no_show": [
        # a_today checked in and was never called: not a no-show yet (the rule), a 409 for
        # whoever runs the queue
        ("post", "a_today", {}, [401, 403, 403, 403, 409, 409, 409]),
        ("post", "a_future", {}, [401, 403, 403, 403, 404, 409, 409]),
    ],
    # The member's appointments: book (A already holds the two upcoming ones their level
    # allows: refused, as on the booking page), one appointment, pay, cancel.
    "api:appointments": [
        ("get", None, {}, API_MEMBER),
        ("post", None, {"schedule": "open_schedule"}, [401, 409, 201, 403, 403, 403, 403]),
    ],
    "api:appointment": [("get", "a_future", {}, API_OWN)],
    "api:appointment_pay": [
        ("post", "a_future", {"method": "sandbox"}, API_OWN),
        ("post", "a_future", {"gateway": "sandbox"}, API_OWN),
        ("get", "a_future", {}, [401, 405, 405, 403, 403, 403, 403]),
    ],
    "api:appointment_cancel": [
        ("get", "a_future", {}, API_OWN),
        ("post", "a_future", {}, API_OWN),
    ],
    "api:appointment_reschedule": [
        ("post", "a_future", {"schedule": "open_schedule"}, [401, 400, 404, 403, 403, 403, 403]),
        ("get", "a_future", {}, [401, 405, 405, 403, 403, 403, 403]),
    ],
    "api:appointment_reschedule_options": [("get", "a_future", {}, API_OWN)],
    # 候补: A joins a sold-out session's waitlist for their child (B may not name A's child:
    # 400), lists it, takes up the offer held for the child or leaves; B's tries are 404s.
    "api:waitlist": [
        ("get", None, {}, API_MEMBER),
        (
            "post",
            None,
            {"schedule": "full_schedule", "patient": "patient"},
            [401, 201, 400, 403, 403, 403, 403],
        ),
    ],
    "api:waitlist_leave": [("post", "waitlist_offer", {}, API_OWN)],
    "api:waitlist_accept": [("post", "waitlist_offer", {}, [401, 201, 404, 403, 403, 403, 403])],
    # 放号提醒: A's reminder of the later session is there already (200, the same one); B sets
    # theirs (201); A cancels theirs.
    "api:reminders": [
        ("get", None, {}, API_MEMBER),
        ("post", None, {"schedule": "later_schedule"}, [401, 200, 201, 403, 403, 403, 403]),
    ],
    "api:reminder_cancel": [("post", "reminder", {}, API_OWN)],
    # FHIR R4 (/fhir/): the API's tokens (the CapabilityStatement is public), errors as
    # OperationOutcomes. A member reads their account, the desk and admins everything, the
    # doctor their own sessions' patients: A's child (``patient``) is not among them (404).
    "fhir:metadata": [("get", None, {}, ALL_200)],
    "fhir:search": [
        ("get", "fhir_patients", {}, FHIR_READ),
        ("get", "fhir_appointments", {}, FHIR_READ),
        ("get", "fhir_encounters", {}, FHIR_READ),
        ("get", "fhir_practitioners", {}, FHIR_READ),
        ("get", "fhir_conditions", {}, FHIR_READ),
        ("post", "fhir_patients", {}, [401, 405, 405, 405, 405, 405, 405]),
    ],
    "fhir:read": [
        ("get", "fhir_patient", {}, [401, 200, 404, 200, 404, 200, 200]),
        ("get", "fhir_patient_today", {}, [401, 200, 404, 200, 200, 200, 200]),
        ("get", "fhir_appointment", {}, [401, 200, 404, 200, 200, 200, 200]),
        ("get", "fhir_encounter", {}, [401, 200, 404, 200, 200, 200, 200]),
        ("get", "fhir_other_appointment", {}, [401, 200, 404, 200, 404, 200, 200]),
        ("get", "fhir_condition", {}, [401, 200, 404, 200, 200, 200, 200]),
        ("get", "fhir_practitioner", {}, FHIR_READ),
        ("get", "fhir_schedule", {}, FHIR_READ),
        ("get", "fhir_slot", {}, FHIR_READ),
    ],
    # Django admin: every route under admin/ behaves like these (superusers only)
    "admin:*": [
        ("get", "admin:index", {}, DJANGO_ADMIN),
        ("get", "admin:members_member_changelist", {}, DJANGO_ADMIN),
        ("get", "admin:billing_order_changelist", {}, DJANGO_ADMIN),
        ("get", "admin:medbook_operationlog_changelist", {}, DJANGO_ADMIN),
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
