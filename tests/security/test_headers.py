"""Issue 10, findings 10 and 11: pages with personal or order data are never stored by a
browser or proxy; HEAD works wherever GET does; a 403 is one log line, without a traceback."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from billing.gateways import sandbox
from billing.models import Order
from tests.security.matrix import MATRIX, ROLES
from tests.security.world import client_as, matrix_world, route_url  # noqa: F401  (fixture: world)

pytestmark = pytest.mark.django_db

LOGGED_IN_ROLES = [role for role in ROLES if role != "anonymous"]


def _get_rows(objects: dict) -> list[tuple[str, str]]:
    return [
        (name, route_url(name, arg, objects))
        for name, rows in MATRIX.items()
        for method, arg, _data, _expected in rows
        if method == "get"
    ]


def _no_store(response) -> bool:
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    return {"no-store", "private"} <= directives


# -- 10: no-store on personal and order data ------------------------------------------------------


@pytest.mark.parametrize("role", LOGGED_IN_ROLES)
def test_every_page_a_logged_in_user_gets_is_not_stored(world, role) -> None:
    client = client_as(world, role)
    stored = []
    for name, url in _get_rows(world):
        response = client.get(url)
        if response.status_code == 200 and not _no_store(response):
            stored.append((name, response.get("Cache-Control")))
    assert stored == []


@pytest.mark.parametrize(
    "name", ["account_change_phone", "account_change_password", "mfa_index", "members:profile"]
)
def test_account_pages_are_not_stored(client, member, name) -> None:
    client.force_login(member.user)

    response = client.get(reverse(name))

    assert response.status_code == 200
    assert _no_store(response), response.get("Cache-Control")


def test_the_sandbox_cashier_is_not_stored(client, world) -> None:
    order = Order.objects.get(out_trade_no=world["out_trade_no"])

    response = client.get(sandbox.checkout_url(order))

    assert response.status_code == 200
    assert _no_store(response), response.get("Cache-Control")


def test_a_public_page_for_a_visitor_keeps_its_own_cache_header(client, world) -> None:
    response = client.get(reverse("appointments:doctor_detail", args=[world["doctor"]]))

    assert response["Cache-Control"] == "no-cache"


def test_the_polled_doctor_page_of_a_member_is_private_and_not_stored(client, world) -> None:
    client.force_login(world["people"]["member_a"])

    response = client.get(reverse("appointments:doctor_detail", args=[world["doctor"]]))

    directives = {d.strip() for d in response["Cache-Control"].split(",")}
    assert {"private", "no-cache", "no-store"} <= directives


# -- 11: HEAD wherever GET, and a 403 in one log line ---------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_head_is_allowed_wherever_get_is(world, role) -> None:
    client = client_as(world, role)
    refused = []
    for name, url in _get_rows(world):
        got = client.get(url).status_code
        head = client.head(url)
        if got != 405 and head.status_code == 405:
            refused.append(name)
        elif head.status_code != got:
            refused.append((name, got, head.status_code))
        # A download (a streamed file) is answered without its body too.
        assert (b"".join(head.streaming_content) if head.streaming else head.content) == b""
    assert refused == []


def test_head_stays_refused_where_get_is(client, front_desk) -> None:
    client.force_login(front_desk)

    assert client.head(reverse("staff:logout")).status_code == 405


def test_a_403_is_one_log_line_without_a_traceback(client, member, caplog) -> None:
    client.force_login(member.user)

    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get(reverse("staff:home"))

    assert response.status_code == 403
    lines = [r for r in caplog.records if r.name.startswith(("django.request", "django.security"))]
    assert len(lines) == 1
    assert lines[0].exc_info is None and not lines[0].exc_text
    assert "Traceback" not in caplog.text
    formatted = logging.getLogger("django.request").handlers + logging.getLogger().handlers
    for handler in formatted:
        if handler.formatter is not None:
            assert "\n" not in handler.format(lines[0])


# -- 4: the production server's access log holds no query string ---------------------------------


def test_the_access_log_leaves_query_strings_out() -> None:
    import datetime as dt
    from types import SimpleNamespace

    from gunicorn.config import Config

    from medbook.gunicorn_conf import QuerylessAccessLogger

    config = Config()
    config.set("accesslog", None)
    log = QuerylessAccessLogger(config)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/staff/members/?q=110105199003071239",
        "PATH_INFO": "/staff/members/",
        "QUERY_STRING": "q=110105199003071239",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": "https://clinic.example/staff/check-in/?phone=13800138000",
        "REMOTE_ADDR": "10.0.0.1",
    }
    response = SimpleNamespace(status="200 OK", sent=10, headers=[("Location", "/x/?phone=1")])
    request = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])

    atoms = log.atoms(response, request, environ, dt.timedelta(seconds=1))
    line = config.access_log_format % atoms

    assert "/staff/members/" in line
    assert "110105199003071239" not in line and "13800138000" not in line
    assert not any(
        "110105199003071239" in str(v) or "13800138000" in str(v) for v in atoms.values()
    )
