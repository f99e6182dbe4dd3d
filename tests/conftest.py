"""Shared fixtures: the membership levels and the people of the permission tests."""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone, translation

from members.models import MemberLevel
from tests.members.factories import MemberFactory

# The WeChat Pay stand-in's fixtures (wechat_keys, wechat, fake_wechat), for every app's tests.
# The read/write split's real streaming replica (streaming_replica, on_replica_cluster).
# Alipay set up beside the clinic's gateway (alipay_keys, alipay_also, alipay_cashier).
# The provincial insurer's stand-in (provincial_standin).
pytest_plugins = [
    "tests.billing.wechat_pay",
    "tests.billing.provincial_standin",
    "tests.replica",
    "tests.billing.alipay_pay",
]

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``postgres`` skip on SQLite locally, but fail in CI: never a silent skip."""
    from django.conf import settings

    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    if on_postgres or IN_CI:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _require_postgres_marker(request: pytest.FixtureRequest) -> None:
    if "postgres" in request.keywords and IN_CI:
        from django.conf import settings

        engine = settings.DATABASES["default"]["ENGINE"]
        assert engine.endswith("postgresql"), f"CI needs PostgreSQL for this test, got {engine}"


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    cache.clear()


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts in the clinic's language. A request through the test client leaves its
    language active in the thread (LocaleMiddleware activates, nothing deactivates), so a test
    that asked for English would otherwise hand English to the next test in the same worker."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def levels(db) -> dict[str, MemberLevel]:
    """The four levels of the demo clinic: 普通 / 银卡 / 金卡 / 钻石."""
    rows = [
        (1, "普通会员", 0, 0, False, "1.00", 2, "1.00"),
        (2, "银卡会员", 500, 2, False, "0.95", 3, "1.20"),
        (3, "金卡会员", 2000, 12, True, "0.90", 4, "1.50"),
        (4, "钻石会员", 5000, 24, True, "0.80", 6, "2.00"),
    ]
    result = {}
    for level, name, points, lead, late, rate, active, multiplier in rows:
        result[name[:2]] = MemberLevel.objects.create(
            level=level,
            name=name,
            min_points=points,
            booking_lead_hours=lead,
            can_cancel_late=late,
            discount_rate=Decimal(rate),
            max_active_appointments=active,
            points_multiplier=Decimal(multiplier),
        )
    return result


@pytest.fixture
def member(levels):
    return MemberFactory(name="张三", level=levels["普通"])


@pytest.fixture
def other_member(levels):
    return MemberFactory(name="李四", level=levels["普通"])


def enable_totp(user) -> str:
    """Give ``user`` an authenticator app (two-factor); returns its secret."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    user.totp_secret = secret
    return secret


def totp_code(secret: str) -> str:
    """The code the authenticator app shows now — and will still show for a few seconds: near
    the end of its 30-second window we wait for the next one, as a person would, so a slow
    machine never submits a code that expired on the way."""
    import time

    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    if time.time() % 30 > 25:
        time.sleep(30 - time.time() % 30 + 0.1)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def fresh_window(seconds: int, *, need: float = 5) -> None:
    """Rate limits count in fixed windows (medbook.throttle): a test that fills one waits for
    the next window when fewer than ``need`` seconds of this one are left, so its attempts all
    fall into one window on a slow machine too."""
    import time

    if seconds - time.time() % seconds < need:
        time.sleep(seconds - time.time() % seconds + 0.1)


def staff_user(username: str, role: str | None, *, mfa: bool = True):
    """A console login in one of the role groups (None: no group at all), with two-factor
    authentication set up unless ``mfa=False``."""
    from django.contrib.auth.models import Group

    from tests.members.factories import UserFactory

    user = UserFactory(username=username, is_staff=False)
    if role is not None:
        user.groups.add(Group.objects.get(name=role))
    if mfa:
        enable_totp(user)
    return user


@pytest.fixture
def empty_redis():
    """Redis emptied before and after the test (the release gate's stock and marks, cached
    sessions and logins): what the test finds there, it put there."""
    from django.core.cache import caches

    caches["redis"].clear()
    yield caches["redis"]
    caches["redis"].clear()


@pytest.fixture
def front_desk(db):
    from medbook.roles import FRONT_DESK

    return staff_user("frontdesk", FRONT_DESK)


@pytest.fixture
def doctor_user(db):
    """A doctor's login, linked to a doctor (王医生)."""
    from medbook.roles import DOCTOR
    from tests.appointments.factories import DoctorFactory

    user = staff_user("doctor", DOCTOR)
    DoctorFactory(user=user, name="王医生")
    return user


@pytest.fixture
def clinic_admin(db):
    from medbook.roles import CLINIC_ADMIN

    return staff_user("clinicadmin", CLINIC_ADMIN)


SMS_CODE = re.compile(r"(\d{6})")


@pytest.fixture
def sms_log(caplog):
    """The texts the (logging) SMS backend sent; ``.code()`` is the last code in them."""
    caplog.set_level(logging.INFO, logger="medbook.sms")

    class Texts:
        @staticmethod
        def messages() -> list[str]:
            return [r.getMessage() for r in caplog.records if r.name == "medbook.sms"]

        @classmethod
        def code(cls) -> str:
            for text in reversed(cls.messages()):
                found = SMS_CODE.search(text.split(":", 1)[1])
                if found:
                    return found.group(1)
            raise AssertionError("no code was texted")

    return Texts


@pytest.fixture
def on_postgres() -> bool:
    return connection.vendor == "postgresql"


def started_ago(delta: dt.timedelta) -> dt.datetime:
    """When a session of today that is under way began: ``delta`` ago, or at midnight if that
    was yesterday (a run just after midnight in the clinic's time zone)."""
    now = timezone.localtime()
    return max(now - delta, now.replace(hour=0, minute=0, second=0, microsecond=0))
