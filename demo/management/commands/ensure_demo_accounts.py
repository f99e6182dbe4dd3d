"""Create the demo logins once (passwords kept under var/) and print how to log in."""

from __future__ import annotations

import json
import os
import secrets
from typing import Any

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from appointments.models import Doctor
from demo.data import DEMO_DOCTOR, DEMO_MEMBER_PASSWORD
from medbook.roles import CLINIC_ADMIN, DOCTOR, FINANCE, FRONT_DESK
from members.models import Member, User

# username -> (role, display name); the superuser has no group.
STAFF = {
    "admin": (None, "系统管理员"),
    "clinicadmin": (CLINIC_ADMIN, "陈主任（诊所管理员）"),
    "frontdesk": (FRONT_DESK, "刘晓燕（前台）"),
    "doctor": (DOCTOR, ""),
    "finance": (FINANCE, "王静（财务）"),
}


class Command(BaseCommand):
    help = (
        "Create the demo superuser, a clinic admin, a front-desk login, a doctor's login and a "
        "finance login of the embedded default, and print them with a demo member's login."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--local-cluster",
            action="store_true",
            help="the PostgreSQL of `dev.py cluster` on this machine: demo logins allowed there",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.EMBEDDED and not options["local_cluster"]:
            raise CommandError(
                "Demo accounts are for the embedded default only; in production use "
                "'manage.py createsuperuser' and give staff their groups."
            )
        path = settings.VAR_DIR / "demo-accounts.json"
        credentials: dict[str, str] = {}
        if path.exists():
            credentials = json.loads(path.read_text(encoding="utf-8"))
        if "username" in credentials:  # the first version kept only the superuser
            credentials = {credentials["username"]: credentials["password"]}
        changed = False
        totp_secrets = credentials.setdefault("totp", {})
        for username in STAFF:
            if username not in credentials:
                credentials[username] = secrets.token_urlsafe(12)
                changed = True
            if username not in totp_secrets:
                totp_secrets[username] = generate_totp_secret()
                changed = True
        if changed:
            tmp = path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(credentials, fh)
            tmp.replace(path)

        # The demo doctor (sessions every day, so the queue has patients today); any other
        # doctor when the demo data is not loaded.
        doctor = (
            Doctor.objects.filter(is_active=True, name=DEMO_DOCTOR).first()
            or Doctor.objects.filter(is_active=True).order_by("pk").first()
        )
        for username, (role, full_name) in STAFF.items():
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User(username=username, email=f"{username}@medbook.example")
            user.first_name = full_name or (f"{doctor.name}（医生）" if doctor else "")
            user.is_staff = role is None
            user.is_superuser = role is None
            if not user.check_password(credentials[username]):
                user.set_password(credentials[username])
            user.save()
            if role is not None:
                user.groups.set([Group.objects.get(name=role)])
            if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
                TOTP.activate(user, totp_secrets[username])
            if role == DOCTOR and doctor is not None and doctor.user_id != user.pk:
                Doctor.objects.filter(user=user).update(user=None)
                doctor.user = user
                doctor.save(update_fields=["user"])

        lines = [
            f"Admin login (Django admin /admin/): admin / {credentials['admin']}",
            f"Console logins (/staff/): clinicadmin / {credentials['clinicadmin']}, "
            f"frontdesk / {credentials['frontdesk']}, doctor / {credentials['doctor']}"
            + (f" ({doctor.name})" if doctor else "")
            + f", finance / {credentials['finance']} (reports)",
        ]
        member = Member.objects.order_by("pk").first()
        if member is not None:
            # Demo data only: the seeded numbers are not real people's.
            lines.append(
                f"Member login (/accounts/login/): {member.phone[3:]} / {DEMO_MEMBER_PASSWORD} "
                f"({member.name}; every demo member has this password)"
            )
        lines.append(
            "Staff also enter an authenticator code: add the keys in "
            f"{path} ('totp') to an authenticator app, or run "
            "'python manage.py demo_totp_code <username>'."
        )
        lines.append(f"(passwords stored in {path})")
        for line in lines:
            self.stdout.write(self.style.SUCCESS(line))
