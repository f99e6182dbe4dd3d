"""Who may open the reports: clinic admins and finance (财务). Front desk and doctors get a 403;
members are told the reports don't exist (404: unlike the rest of the console, where a member
gets a 403, nothing tells a member what the clinic measures); anonymous visitors are sent to the
staff login. Finance sees the reports and nothing else of the console."""

from __future__ import annotations

import pytest
from django.urls import reverse

from medbook.roles import FINANCE
from tests.conftest import staff_user

pytestmark = pytest.mark.django_db

ROUTES = [
    "staff:reports",
    "staff:reports_bookings",
    "staff:reports_noshows",
    "staff:reports_revenue",
    "staff:reports_releases",
    "staff:reports_flow",
    "staff:reports_exports",
    "staff:reports_members",
]
EXPECTED = {
    "anonymous": "login",
    "member": 404,
    "front_desk": 403,
    "doctor": 403,
    "clinic_admin": 200,
    "finance": 200,
}


@pytest.fixture
def finance(db):
    return staff_user("finance", FINANCE)


@pytest.fixture
def people(member, front_desk, doctor_user, clinic_admin, finance):
    return {
        "anonymous": None,
        "member": member.user,
        "front_desk": front_desk,
        "doctor": doctor_user,
        "clinic_admin": clinic_admin,
        "finance": finance,
    }


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_role_gets_what_the_matrix_says(client, people, route, role) -> None:
    if people[role] is not None:
        client.force_login(people[role])
    response = client.get(reverse(route))
    if EXPECTED[role] == "login":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("staff:login") + "?next=")
    else:
        assert response.status_code == EXPECTED[role]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_the_reports_only_answer_get(client, people, route, method) -> None:
    client.force_login(people["finance"])
    assert getattr(client, method)(reverse(route)).status_code == 405


def test_finance_sees_the_reports_and_no_other_console_page(client, people) -> None:
    client.force_login(people["finance"])
    home = client.get(reverse("staff:home"))
    assert home.status_code == 200
    page = home.content.decode()
    assert reverse("staff:reports") in page
    for other in ("staff:today", "staff:schedules", "staff:levels", "staff:jobs", "staff:members"):
        assert reverse(other) not in page
        assert client.get(reverse(other)).status_code == 403


def test_the_console_links_the_reports_for_admins_only_among_the_old_roles(client, people):
    for role, linked in [("front_desk", False), ("doctor", False), ("clinic_admin", True)]:
        client.force_login(people[role])
        page = client.get(reverse("staff:home")).content.decode()
        assert (reverse("staff:reports") in page) is linked, role


def test_finance_must_set_up_two_factor_first(client, db) -> None:
    """Finance is a console login: without an authenticator app it is sent to set one up."""
    client.force_login(staff_user("finance2", FINANCE, mfa=False))
    response = client.get(reverse("staff:reports"))
    assert response["Location"] == reverse("mfa_activate_totp")


@pytest.mark.parametrize("role", list(EXPECTED))
def test_asking_for_an_export_follows_the_matrix(client, people, role) -> None:
    """Those who see the reports may export them (a redirect to the export's page); the others
    get what the reports' pages give them."""
    if people[role] is not None:
        client.force_login(people[role])
    response = client.post(
        reverse("staff:reports_export_new"),
        {"dashboard": "bookings", "kind": "tables", "format": "csv", "range": "7d"},
    )
    if EXPECTED[role] == "login":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("staff:login") + "?next=")
    elif EXPECTED[role] == 200:
        assert response.status_code == 302
        assert response["Location"].startswith("/staff/reports/exports/")
    else:
        assert response.status_code == EXPECTED[role]


def test_asking_for_an_export_only_answers_post(client, people) -> None:
    client.force_login(people["finance"])
    assert client.get(reverse("staff:reports_export_new")).status_code == 405
