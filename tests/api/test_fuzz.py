"""Issue 14, part 6: every operation of the live OpenAPI schema, fuzzed with schemathesis.

The schema is the one the app serves at /api/schema/ (read through the WSGI app, in-process),
so an endpoint added later is fuzzed with no change here. Each operation gets generated input —
valid and invalid — as an anonymous caller, a member (bearer token), front desk and a doctor
(his own sessions among the clinic's; staff with the second factor), against a clinic with
departments, doctors, sessions, the member's appointments and messages: path ids are drawn
mostly from the rows that exist, so ``/…/{id}/`` reaches real objects, not only 404s. Every
response must be: not a 5xx, a status the schema documents for the operation, the documented
content type, a body matching the documented schema, and input the schema forbids refused
(schemathesis' default checks but one, see ``_live_schema``).

Reproducible: the run is derandomized from one seed (MEDBOOK_FUZZ_SEED, default fixed), printed
with any failure. MEDBOOK_FUZZ_EXAMPLES (default 12 per operation, caller and phase) makes a
long run by hand: ``MEDBOOK_FUZZ_EXAMPLES=500 MEDBOOK_FUZZ_SEED=$RANDOM pytest <this file>``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from appointments.choices import ScheduleStatus
from appointments.models import Doctor
from billing.models import Order
from medbook.roles import DOCTOR, FRONT_DESK
from members import services as member_services
from members.models import MessageKind, User
from tests.api.helpers import pair_for
from tests.appointments.factories import DepartmentFactory, DoctorFactory, ScheduleFactory
from tests.billing.factories import book
from tests.conftest import staff_user
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db

#: Generated cases per operation, caller and generation phase; raise it for a long run by hand.
EXAMPLES = int(os.environ.get("MEDBOOK_FUZZ_EXAMPLES", "12"))
#: The one seed of the run: CI is reproducible; set another to explore further.
SEED = int(os.environ.get("MEDBOOK_FUZZ_SEED", "20261130"))
CALLERS = ["anonymous", "member", "front_desk", "doctor"]


@dataclass
class Caller:
    """Who calls: a fresh access token per request (the fuzzer logs out, too)."""

    role: str
    user: User | None = None

    def token(self) -> str | None:
        if self.user is None:
            return None
        # Reloaded: a generated "log out everywhere" raises the login's session epoch.
        user = User.objects.get(pk=self.user.pk)
        return pair_for(user, second_factor=self.role != "member").access


@pytest.fixture
def clinic(levels) -> list[int]:
    """Departments, doctors, a week of sessions (open, full, suspended, past), a member with
    bookings and messages, another member with one; the ids of all of them. On PostgreSQL
    only (never skipped): what the fuzzer sends must meet the production database's types."""
    assert connection.vendor == "postgresql", "the API fuzz needs PostgreSQL (DATABASE_URL)"
    _number_from_one()
    member = MemberFactory(name="张三", level=levels["普通"])
    other = MemberFactory(name="李四", level=levels["普通"])
    internal = DepartmentFactory(code="internal", name="内科", sort_order=1)
    surgery = DepartmentFactory(code="surgery", name="外科", sort_order=2)
    DepartmentFactory(code="closed", name="停用科室", is_active=False)
    wang = DoctorFactory(name="王建国", department=internal, title="chief", specialties="高血压")
    zhao = DoctorFactory(name="赵强", department=surgery)
    gone = DoctorFactory(name="离职医生", department=internal, is_active=False)
    today = timezone.localdate()
    sessions = [
        ScheduleFactory(doctor=wang, date=today + dt.timedelta(days=day), fee=Decimal("30.00"))
        for day in range(1, 5)
    ]
    sessions.append(ScheduleFactory(doctor=zhao, capacity=1, fee=Decimal("0.00")))
    suspended = today + dt.timedelta(days=4)
    sessions.append(ScheduleFactory(doctor=zhao, date=suspended, status=ScheduleStatus.SUSPENDED))
    sessions.append(ScheduleFactory(doctor=wang, date=today - dt.timedelta(days=2)))
    appointments = [book(member, sessions[0]), book(member, sessions[4]), book(other, sessions[1])]
    messages = [
        member_services.send_message(
            member=member, kind=MessageKind.REMINDER, title="提醒", body="明天上午就诊"
        ),
        member_services.send_message(
            member=other, kind=MessageKind.REMINDER, title="提醒", body="明天上午就诊"
        ),
    ]
    rows = [member, other, wang, zhao, gone, internal, surgery, *sessions, *appointments]
    rows += messages
    rows += Order.objects.filter(appointment__in=appointments)
    return sorted({row.pk for row in rows})


def _number_from_one() -> None:
    """Ids from 1 in every empty table, so that the clinic's departments, doctors, sessions,
    appointments, orders and messages share a few small ids: a path's id drawn from them finds
    a row of whatever kind the path names. (Sequences ignore the test's rollback; the tables
    are empty again after it, so the next test numbers from wherever it finds them.)"""
    with connection.cursor() as cursor:
        for sequence in connection.introspection.sequence_list():
            table = connection.ops.quote_name(sequence["table"])
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {table})")  # noqa: S608 (our tables)
            if not cursor.fetchone()[0]:
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, %s), 1, false)",
                    [table, sequence["column"]],
                )


@pytest.fixture(params=CALLERS)
def caller(request, clinic) -> Caller:
    role = request.param
    REAL_IDS[:] = clinic
    print(f"fuzzing as {role} with MEDBOOK_FUZZ_SEED={SEED}, MEDBOOK_FUZZ_EXAMPLES={EXAMPLES}")
    if role == "anonymous":
        user = None
    elif role == "member":
        user = User.objects.get(member__name="张三")
    elif role == "front_desk":
        user = staff_user("frontdesk", FRONT_DESK)
    else:  # 王建国's own login: his sessions are the clinic's first ones
        user = staff_user("doctor", DOCTOR)
        Doctor.objects.filter(name="王建国").update(user=user)
    return Caller(role, user=user)


@pytest.fixture
def _in_process(settings) -> Iterator[None]:
    """Requests go through the WSGI app inside the test's transaction: as Django's test client
    does, the request signals must not close the connection (and the transaction with it).
    The API's limits are raised so the fuzzer reaches the endpoints, not only their 429."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost", "testserver"]
    settings.MEDBOOK_API_RATE_USER = "100000/60"
    settings.MEDBOOK_API_RATE_IP = "100000/60"
    settings.ACCOUNT_RATE_LIMITS = False  # the sign-up and texted-code limits the API shares
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _live_schema() -> schemathesis.BaseSchema:
    """The schema the app serves now, read through its WSGI handler (at collection: before
    pytest-django's test environment lets the test client's host in)."""
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {
                "max-examples": EXAMPLES,
                "deterministic": True,
                "database": "none",
                # A query parameter the API does not know is ignored, as HTTP APIs do; the
                # caller's token is the test's (Caller), not a generated header.
                "allow-extra-parameters": False,
                "with-security-parameters": False,
            },
            # Input the schema allows may still break a rule the schema cannot say (a number
            # that is no mobile number, a date before 2000): the documented 400 with its
            # message is the right answer, not a failure. Every other default check runs.
            "checks": {"positive_data_acceptance": {"enabled": False}},
        }
    )
    with override_settings(ALLOWED_HOSTS=["localhost"]):
        return schemathesis.openapi.from_wsgi("/api/schema/", _server, config=config)


def _server(environ: dict, start_response: Any) -> Any:
    """MedBook's WSGI app as a server runs it: the client's address is always there (the web
    limits count per address; the in-process client leaves it out)."""
    environ.setdefault("REMOTE_ADDR", "127.0.0.1")
    return _app(environ, start_response)


_app = WSGIHandler()


schema = _live_schema()
#: The ids of the rows of the running test's clinic (path ids are drawn from them now and then).
REAL_IDS: list[int] = []


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
    """Mostly the id of a row that exists (a department's, doctor's, session's, appointment's,
    order's, message's, member's: the clinic's, whatever the path names), else the generated
    one: so ``/…/{id}/`` reaches real objects — the caller's and others' — not only 404s."""
    ints = [name for name, value in (path_parameters or {}).items() if isinstance(value, int)]
    if not ints:
        return st.just(path_parameters)
    real_id = st.integers(min_value=0, max_value=255).map(lambda i: REAL_IDS[i % len(REAL_IDS)])
    real = st.fixed_dictionaries(dict.fromkeys(ints, real_id))
    real = real.map(lambda drawn: {**path_parameters, **drawn})
    return st.one_of(real, real, st.just(path_parameters))


@schema.parametrize()
# The clinic and the caller are made once per operation and caller, not per generated case: what
# one case writes, the next may see (as in a clinic's day); the test's transaction ends it all.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_operation_answers_as_documented(case: Any, caller: Caller, _in_process) -> None:
    token = caller.token()
    headers = {"Authorization": f"Bearer {token}"} if token else None
    case.call_and_validate(headers=headers)
