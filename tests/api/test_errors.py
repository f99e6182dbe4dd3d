"""Issue 14: every API error is one body, {"error": {"code", "message", "fields"}}, with the
message in the language the request asks for (Accept-Language: zh-hans or en; Chinese when it
names neither)."""

from __future__ import annotations

import pytest

from tests.api.helpers import PASSWORD, call, error, log_in
from tests.conftest import fresh_window
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


def _message(response) -> str:
    return response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Log in first"),
        ("en-US,en;q=0.9", "Log in first"),
        ("zh-CN,zh;q=0.9", "请先登录"),
        ("zh-Hans", "请先登录"),
        ("fr-FR", "请先登录"),  # neither: the clinic's language
        ("", "请先登录"),
    ],
)
def test_not_logged_in_in_the_asked_language(client, db, language, expected) -> None:
    response = call(client, "get", "me", language=language)
    assert error(response) == (401, "not_authenticated")
    assert expected in _message(response)
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert "Accept-Language" in response["Vary"]


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "The token is not valid"), ("zh-hans", "令牌无效")],
)
def test_a_bad_token_in_both_languages(client, db, language, expected) -> None:
    response = call(client, "get", "me", token="x.y.z", language=language)
    assert error(response) == (401, "token_invalid")
    assert expected in _message(response)


@pytest.mark.parametrize(
    ("language", "general", "field"),
    [
        ("en", "Some fields need correcting", "This field is required."),
        ("zh-hans", "请更正", "该字段是必填项。"),
    ],
)
def test_validation_errors_name_their_fields(client, db, language, general, field) -> None:
    response = call(client, "post", "auth_token", {"login": "x"}, language=language)
    assert error(response) == (400, "invalid")
    assert general in _message(response)
    assert response.json()["error"]["fields"] == {"password": [field]}


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "already registered"), ("zh-hans", "该手机号已注册")],
)
def test_a_services_refusal_keeps_its_code_and_message(
    client, levels, sms_log, language, expected
) -> None:
    """The sign-up races another for the same number: the service's PhoneTaken, as on the web."""
    call(client, "post", "auth_signup_code", {"phone": "13912349999"})
    code = sms_log.code()
    MemberFactory(phone="+8613912349999")
    body = {
        "name": "甲",
        "phone": "13912349999",
        "code": code,
        "password": PASSWORD,
        "accept_terms": True,
        "accept_privacy": True,
    }
    response = call(client, "post", "auth_signup", body, language=language)
    assert error(response) == (409, "phone_taken")
    assert expected in _message(response)
    assert response.json()["error"]["fields"] == {"phone": [_message(response)]}


@pytest.mark.parametrize(("language", "expected"), [("en", "Not found"), ("zh-hans", "未找到")])
def test_not_found(client, db, language, expected) -> None:
    response = call(client, "get", "doctor", args=[999999], language=language)
    assert error(response) == (404, "not_found")
    assert expected in _message(response)


def test_method_media_type_and_body_errors(client, db) -> None:
    assert error(call(client, "put", "departments")) == (405, "method_not_allowed")
    response = client.post(
        "/api/v1/auth/token/", "login=a", content_type="application/x-www-form-urlencoded"
    )
    assert error(response) == (415, "unsupported_media_type")
    response = client.post("/api/v1/auth/token/", "{not json", content_type="application/json")
    assert error(response) == (400, "parse_error")


@pytest.mark.parametrize(
    ("language", "expected"), [("en", "Too many requests"), ("zh-hans", "请求过于频繁")]
)
def test_too_many_requests(client, db, settings, language, expected) -> None:
    settings.MEDBOOK_API_RATE_IP = "2/60"
    fresh_window(60)
    for _ in range(2):
        assert call(client, "get", "departments").status_code == 200
    response = call(client, "get", "departments", language=language)
    assert error(response) == (429, "throttled")
    assert expected in _message(response)
    assert 1 <= int(response["Retry-After"]) <= 60


def test_requests_per_login_are_limited_too(client, levels, settings) -> None:
    member = MemberFactory(phone="+8613700006666")
    member.user.set_password(PASSWORD)
    member.user.save()
    access = log_in(client, "13700006666").json()["access"]
    settings.MEDBOOK_API_RATE_USER = "1/60"
    assert call(client, "get", "me", token=access).status_code == 200
    assert error(call(client, "get", "me", token=access)) == (429, "throttled")
    assert call(client, "get", "departments").status_code == 200  # anonymous: not this login's


def test_a_control_character_is_a_400_not_a_500(client, db) -> None:
    response = call(client, "post", "auth_token", {"login": "a\x00b", "password": "x"})
    assert response.status_code == 400


@pytest.mark.parametrize(
    "path", ["/api/v1/departments/?q=a%00b", "/api/v1/doctors/%01/", "/api/v1/me/?x%02=1"]
)
def test_a_control_character_in_the_url_is_the_apis_error_body(client, db, path) -> None:
    """The input policy refuses it before any view, in the API's JSON (found by the fuzzer:
    it answered with the site's HTML error page), and the schema documents that 400."""
    response = client.get(path, HTTP_ACCEPT_LANGUAGE="en")
    assert response["Content-Type"] == "application/json"
    assert error(response) == (400, "invalid")
    assert "control character" in response.json()["error"]["message"]


def _uncaught(exc: Exception, path: str = "/api/v1/me/"):
    from django.test import RequestFactory
    from django.utils import translation

    from medbook import failures

    try:
        raise exc
    except Exception:
        with translation.override("en"):
            return failures.server_error(RequestFactory().get(path))


def test_an_unreachable_database_is_a_503_error_body_for_the_api() -> None:
    import json

    from django.db import OperationalError

    response = _uncaught(OperationalError("connection refused"))
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    body = json.loads(response.content)
    assert body["error"]["code"] == "unavailable"
    assert "nothing was changed" in body["error"]["message"]


def test_a_bug_is_a_500_error_body_for_the_api() -> None:
    import json

    response = _uncaught(ValueError("bug"))
    assert response.status_code == 500
    assert json.loads(response.content)["error"]["code"] == "server_error"
    assert _uncaught(ValueError("bug"), path="/book/1/")["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(("language", "expected"), [("en", "Not found."), ("zh-hans", "未找到")])
def test_an_address_the_api_does_not_have_is_an_error_body(client, db, language, expected) -> None:
    response = client.get("/api/v1/no-such-thing/", HTTP_ACCEPT_LANGUAGE=language)
    assert error(response) == (404, "not_found")
    assert expected in _message(response)
    # The site's pages keep their page.
    assert client.get("/no-such-page/")["Content-Type"].startswith("text/html")
