"""The staff roles: one Django group each, with the permissions the role needs.

Groups are kept in step with this table after every ``migrate`` (plumbing in
``MedbookConfig.ready``). Doctors see only their own schedules and queue; the views check that
on top of the permission.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.contrib.auth.models import Permission

FRONT_DESK = "前台"
DOCTOR = "医生"
CLINIC_ADMIN = "诊所管理员"
FINANCE = "财务"

_FRONT_DESK = [
    "appointments.view_department",
    "appointments.view_doctor",
    "appointments.view_schedule",
    "appointments.view_appointment",
    "appointments.check_in_appointment",
    "appointments.book_for_member",
    "appointments.cancel_any_appointment",
    "appointments.reschedule_for_member",
    "members.view_member",
    "members.view_memberlevel",
    "members.adjust_points",
    "members.lift_ban",
    "members.add_patient",
    "billing.view_order",
    "billing.take_counter_payment",
    "identity.verify_in_person",
    "records.view_any_visit_record",  # print a patient's record at the desk
]
_DOCTOR = [
    "appointments.view_schedule",
    "appointments.run_queue",
    "records.write_visit_record",  # their own patients' records
]
_CLINIC_ADMIN = [
    *_FRONT_DESK,
    "appointments.run_queue",
    "records.write_visit_record",
    "appointments.override_booking_rules",
    "appointments.add_department",
    "appointments.change_department",
    "appointments.add_doctor",
    "appointments.change_doctor",
    "appointments.add_schedule",
    "appointments.change_schedule",
    "appointments.generate_schedules",
    "appointments.suspend_schedule",
    "appointments.add_scheduletemplate",
    "appointments.change_scheduletemplate",
    "appointments.delete_scheduletemplate",
    "appointments.view_scheduletemplate",
    "appointments.add_holiday",
    "appointments.change_holiday",
    "appointments.delete_holiday",
    "appointments.view_holiday",
    "appointments.change_releaserule",
    "appointments.view_releaserule",
    "appointments.change_titlefee",
    "appointments.view_titlefee",
    "members.change_memberlevel",
    "members.change_member_level",
    "members.view_personal_data",
    "medbook.view_operation_log",
    "medbook.change_clinicprofile",
    "medbook.manage_webhooks",
    "django_celery_beat.view_periodictask",
    "members.change_user",  # recover a staff login: clear failed logins, reset its TOTP
    "reports.view_reports",
    "reports.download_any_export",
]
# Finance reads the reports (and, with later issues, settlement and exports); it books nothing.
_FINANCE = [
    "reports.view_reports",
]

ROLES: dict[str, list[str]] = {
    FRONT_DESK: _FRONT_DESK,
    DOCTOR: _DOCTOR,
    CLINIC_ADMIN: _CLINIC_ADMIN,
    FINANCE: _FINANCE,
}


def ensure_roles(**kwargs: Any) -> None:
    """Create the groups and give each exactly its permissions (idempotent)."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission

    using = kwargs.get("using", "default")
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    for name, codes in ROLES.items():
        group, _created = Group.objects.using(using).get_or_create(name=name)
        wanted = []
        for code in codes:
            app_label, codename = code.split(".")
            wanted.append(
                Permission.objects.using(using).get(
                    content_type__app_label=app_label, codename=codename
                )
            )
        group.permissions.set(wanted)


_BUILT_IN = {
    "add": _("Can add %(kind)s"),
    "change": _("Can change %(kind)s"),
    "delete": _("Can delete %(kind)s"),
    "view": _("Can view %(kind)s"),
}


def permission_name(permission: Permission) -> str:
    """A permission's name in the active language. Django stores each name in English when it
    creates the row; here the four built-in ones are worded from the model's name, and the
    clinic's own from the model's ``Meta.permissions`` (the stored name when neither fits)."""
    model = permission.content_type.model_class()
    if model is None:
        return permission.name
    action, _sep, model_name = permission.codename.partition("_")
    if action in _BUILT_IN and model_name == model._meta.model_name:
        return str(_BUILT_IN[action] % {"kind": model._meta.verbose_name})
    for codename, name in model._meta.permissions:
        if codename == permission.codename:
            return str(name)
    return permission.name


def permission_label(permission: Permission) -> str:
    """How a permission reads in a list of choices: the app, the model and the permission."""
    return f"{permission.content_type} | {permission_name(permission)}"
