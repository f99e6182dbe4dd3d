"""How the operation log reads to people: each operation's name and each row's object, in the
reader's language. The log stores codes and language-neutral labels (the chain's hashes cover
them, so they cannot be re-worded later); the words are chosen here, when a row is shown."""

from __future__ import annotations

import re
from functools import cache

from django.apps import apps
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# Every operation the code writes (tests/medbook/test_operations.py finds them in the source
# and fails on one missing here).
ACTIONS: dict[str, Promise] = {
    "access.groups_changed": _("Roles of a login changed"),
    "access.permissions_changed": _("Permissions of a login changed"),
    "admin.add": _("Added in Django admin"),
    "admin.change": _("Changed in Django admin"),
    "admin.delete": _("Deleted in Django admin"),
    "admin.write": _("Written in Django admin"),
    "api.login": _("App sign-in"),
    "api.logout": _("App sign-out"),
    "api.signup": _("App sign-up"),
    "appointment.book_for_member": _("Booked for a member"),
    "appointment.cancel_for_member": _("Cancelled for a member"),
    "appointment.complete": _("Visit completed"),
    "appointment.no_show": _("Marked as no-show"),
    "appointment.reschedule_for_member": _("Rescheduled for a member"),
    "auth.login": _("Signed in"),
    "auth.login_failed": _("Failed sign-in"),
    "auth.logout": _("Signed out"),
    "billing.choose_gateway": _("Payment channel chosen"),
    "billing.counter_payment": _("Paid at the counter"),
    "billing.refund": _("Refund"),
    "clinic.update": _("Clinic details changed"),
    "consent.accept": _("Agreement accepted"),
    "department.add": _("Department added"),
    "department.change": _("Department changed"),
    "doctor.add": _("Doctor added"),
    "doctor.change": _("Doctor changed"),
    "fhir.unmask": _("Personal data read in full (FHIR)"),
    "holiday.add": _("Holiday added"),
    "holiday.remove": _("Holiday removed"),
    "identity.verify": _("Real-name verification"),
    "level.change": _("Membership level changed"),
    "member.adjust_points": _("Points adjusted"),
    "member.apply_level_rule": _("Level rule applied"),
    "member.change_level": _("Member's level changed"),
    "member.channel_preferences": _("Notification channels changed"),
    "member.lift_ban": _("Booking suspension lifted"),
    "member.password_reset": _("Password reset"),
    "member.phone_change": _("Phone number changed"),
    "member.unmask": _("Personal data shown in full"),
    "mfa.added": _("Two-step verification added"),
    "mfa.removed": _("Two-step verification removed"),
    "mfa.reset": _("Recovery codes renewed"),
    "patient.add": _("Patient added"),
    "patient.change": _("Patient changed"),
    "patient.insurance_add": _("Insurance card added"),
    "patient.insurance_change": _("Insurance card changed"),
    "patient.insurance_remove": _("Insurance card removed"),
    "patient.remove": _("Patient removed"),
    "privacy.erasure": _("Personal data erased"),
    "privacy.export": _("Personal data exported"),
    "release_rule.change": _("Release rule changed"),
    "reports.export": _("Report exported"),
    "reports.export_download": _("Report export downloaded"),
    "schedule.change": _("Session changed"),
    "schedule.generate": _("Sessions generated"),
    "schedule.release": _("Session released"),
    "schedule.suspend": _("Session suspended"),
    "schedule_template.add": _("Weekly template added"),
    "schedule_template.deactivate": _("Weekly template retired"),
    "staff.lockout_reset": _("Staff sign-in lock lifted"),
    "staff.mfa_reset": _("Staff two-step verification reset"),
    "title_fee.change": _("Fee of a title changed"),
    "visit_record.amend": _("Visit record amended"),
    "visit_record.view_fhir": _("Visit records read (FHIR)"),
    "visit_record.view_form": _("Visit record opened for amending"),
    "visit_record.view_page": _("Visit record read"),
    "visit_record.view_pdf": _("Visit record printed"),
    "visit_record.write": _("Visit record written"),
    "webhook.create": _("Webhook added"),
    "webhook.resend": _("Webhook event sent again"),
    "webhook.rotate_secret": _("Webhook secret renewed"),
    "webhook.update": _("Webhook changed"),
}

# The kinds of operation, by the code's prefix (the filters of the console and admin).
AREAS: list[tuple[str, Promise]] = [
    ("appointment.", _("Appointments")),
    ("schedule", _("Sessions and templates")),
    ("billing.", _("Payments and refunds")),
    ("member.", _("Members")),
    ("patient.", _("Patients")),
    ("visit_record.", _("Visit records")),
    ("auth.", _("Logins")),
    ("staff.", _("Staff logins")),
    ("reports.", _("Reports")),
    ("api.", _("API")),
    ("admin.", _("Django admin")),
]

# Rows written before the log stored only neutral labels: the English words they hold.
_LEGACY_TYPES = {"Patient": "members.patient", "VisitRecord": "records.visitrecord"}
_LEGACY_APPOINTMENT = re.compile(r" \(appointment #(\d+)\)$")
_LEGACY_ADMIN = re.compile(r"^([a-z0-9_]+) (\S+): ")


def action_label(code: str) -> str:
    """The operation's name in the active language (the code itself when it has none)."""
    label = ACTIONS.get(code)
    return str(label) if label is not None else code


def action_choices() -> list[tuple[str, str]]:
    """(code, name) of every operation, by name in the active language."""
    return sorted(((code, str(label)) for code, label in ACTIONS.items()), key=lambda c: c[1])


def type_label(target_type: str) -> str:
    """The object's kind, e.g. "appointments.appointment" → 预约 ("" when unknown)."""
    try:
        model = apps.get_model(target_type)
    except (LookupError, ValueError):
        return ""
    return capfirst(str(model._meta.verbose_name))


@cache
def _models_by_name() -> dict[str, type]:
    return {model._meta.model_name: model for model in apps.get_models()}


def kind_named(model_name: str) -> str:
    """A model's name in the active language by its lower-case class name, e.g. "appointment"
    → 预约 ("" when no model has it)."""
    model = _models_by_name().get(model_name)
    return capfirst(str(model._meta.verbose_name)) if model is not None else ""


def object_label(*, action: str, target_type: str, target_label: str) -> str:
    """A row's object as a reader sees it: its kind in the active language and its label."""
    kind, label = type_label(target_type), target_label
    if not target_type and label in _LEGACY_TYPES:
        return type_label(_LEGACY_TYPES[label])
    found = _LEGACY_APPOINTMENT.search(label)
    if found:
        label = label[: found.start()] + gettext(" (appointment #%(id)s)") % {"id": found[1]}
    found = _LEGACY_ADMIN.match(label) if not target_type else None
    if found and action.startswith("admin.") and kind_named(found[1]):
        kind = kind_named(found[1])
        label = f"{found[2]}: {label[found.end() :]}"
    return f"{kind} {label}".strip() if kind else label
