"""Issue 14: the member's membership through the API — level and privileges as the membership
page lists them, points balance, the next level and what it takes, the points ledger newest
first (cursor pagination), and changing the mobile number on me/ as the website allows it: a
code texted to the new number, nothing else a member may change."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from medbook.models import OperationLog
from members.models import PointsReason
from members.services import add_points
from tests.api.helpers import call, error, pair_for
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


def token(member) -> str:
    return pair_for(member.user).access


# -- membership -----------------------------------------------------------------------------


def test_membership_shows_level_privileges_balance_and_the_next_level(
    client, member, levels, settings
) -> None:
    settings.MEDBOOK_CANCEL_CUTOFF_HOURS = 24
    add_points(member=member, delta=120, reason=PointsReason.ADJUSTMENT, note="活动赠送")
    response = call(client, "get", "membership", token=token(member))
    assert response.status_code == 200
    body = response.json()
    assert body["points_balance"] == 120
    assert body["level"] == {
        "level": 1,
        "name": "普通会员",
        "min_points": 0,
        "discount_rate": "1.00",
        "discount_percent": 0,
        "booking_lead_hours": 0,
        "max_active_appointments": 2,
        "can_cancel_late": False,
        "free_cancellation_hours": 24,
        "points_multiplier": "1.00",
    }
    assert body["next_level"]["name"] == "银卡会员"
    assert body["next_level"]["discount_percent"] == 5
    assert body["next_level"]["booking_lead_hours"] == 2
    assert (body["points_needed"], body["progress_percent"]) == (380, 24)
    assert [lv["name"] for lv in body["levels"]] == ["普通会员", "银卡会员", "金卡会员", "钻石会员"]
    assert "no-store" in response["Cache-Control"]


def test_at_the_highest_level_there_is_no_next(client, levels) -> None:
    top = MemberFactory(level=levels["钻石"], points_balance=0)
    body = call(client, "get", "membership", token=token(top)).json()
    assert body["next_level"] is None
    assert (body["points_needed"], body["progress_percent"]) == (0, 100)
    assert body["level"]["can_cancel_late"] is True


# -- the points ledger ------------------------------------------------------------------------


@pytest.fixture
def ledger(member):
    """Five entries a day apart, oldest first (the ledger is append-only: written with their
    times, never updated)."""
    start = timezone.now() - dt.timedelta(days=5)
    return [
        add_points(
            member=member,
            delta=10 * (n + 1),
            reason=PointsReason.ADJUSTMENT,
            note=f"第{n}次",
            now=start + dt.timedelta(days=n),
        )
        for n in range(5)
    ]


def test_the_ledger_comes_newest_first_a_page_at_a_time(client, member, ledger) -> None:
    access = token(member)
    first = call(client, "get", "membership_points", token=access, query={"page_size": 2})
    assert first.status_code == 200
    body = first.json()
    assert [e["note"] for e in body["results"]] == ["第4次", "第3次"]
    assert body["results"][0] == {
        "id": ledger[4].pk,
        "created_at": body["results"][0]["created_at"],
        "delta": 50,
        "balance_after": 150,
        "reason": "adjustment",
        "reason_label": "Staff adjustment",
        "note": "第4次",
    }
    # Points arriving between pages neither repeat nor skip an entry.
    add_points(member=member, delta=7, reason=PointsReason.ADJUSTMENT, note="新")
    second = client.get(body["next"], HTTP_AUTHORIZATION=f"Bearer {access}").json()
    assert [e["note"] for e in second["results"]] == ["第2次", "第1次"]
    third = client.get(second["next"], HTTP_AUTHORIZATION=f"Bearer {access}").json()
    assert [e["note"] for e in third["results"]] == ["第0次"] and third["next"] is None


def test_the_ledger_is_the_members_own(client, member, other_member, ledger) -> None:
    body = call(client, "get", "membership_points", token=token(other_member)).json()
    assert body["results"] == []


def test_the_ledger_labels_follow_the_language(client, member, ledger) -> None:
    body = call(client, "get", "membership_points", token=token(member), language="zh-hans")
    assert body.json()["results"][0]["reason_label"] == "人工调整"


def test_a_bad_cursor_is_a_400(client, member, ledger) -> None:
    response = call(client, "get", "membership_points", token=token(member), query={"cursor": "x"})
    assert error(response) == (400, "invalid")


@pytest.mark.parametrize("name", ["membership", "membership_points"])
def test_staff_and_strangers_are_refused(client, front_desk, name) -> None:
    assert error(call(client, "get", name)) == (401, "not_authenticated")
    staff = pair_for(front_desk, second_factor=True).access
    assert error(call(client, "get", name, token=staff)) == (403, "permission_denied")


# -- changing the number ----------------------------------------------------------------------


def _change(client, member, language="en", **body):
    return call(client, "patch", "me", body, token=token(member), language=language)


def test_the_number_changes_with_the_code_texted_to_the_new_number(client, member, sms_log) -> None:
    old = member.phone
    response = _change(client, member, phone="138 0000 6666")
    assert response.status_code == 202
    assert response.json() == {"masked_phone": "138****6666"}
    assert "138****6666" in sms_log.messages()[-1]
    member.refresh_from_db()
    assert member.phone == old  # unchanged until the code comes back

    done = _change(client, member, phone="13800006666", code=sms_log.code())
    assert done.status_code == 200
    assert done.json()["masked_phone"] == "138****6666"
    member.refresh_from_db()
    assert member.phone == "+8613800006666" and member.phone_verified
    assert OperationLog.objects.filter(action="member.phone_change", actor=member.user).exists()


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "The code is wrong or has expired. Check the text or ask for a new code."),
        ("zh-hans", "验证码错误或已过期，请核对短信或重新获取验证码。"),
    ],
)
def test_a_wrong_code_changes_nothing(client, member, sms_log, language, message) -> None:
    old = member.phone
    _change(client, member, phone="13800006666")
    wrong = "000000" if sms_log.code() != "000000" else "111111"
    response = _change(client, member, language, phone="13800006666", code=wrong)
    assert error(response) == (400, "wrong_code")
    assert response.json()["error"]["message"] == message
    assert response.json()["error"]["fields"] == {"code": [message]}
    member.refresh_from_db()
    assert member.phone == old


def test_a_code_for_one_number_does_not_confirm_another(client, member, sms_log) -> None:
    _change(client, member, phone="13800006666")
    response = _change(client, member, phone="13800007777", code=sms_log.code())
    assert error(response) == (400, "wrong_code")


def test_a_code_is_for_the_member_it_was_sent_for(client, member, other_member, sms_log) -> None:
    _change(client, member, phone="13800006666")
    response = _change(client, other_member, phone="13800006666", code=sms_log.code())
    assert error(response) == (400, "wrong_code")


def test_another_accounts_number_gets_no_code_and_the_answer_does_not_say(
    client, member, levels, sms_log
) -> None:
    MemberFactory(phone="+8613800007777")
    response = _change(client, member, phone="13800007777")
    assert response.status_code == 202  # the same answer as for a free number
    assert "already has an account" in sms_log.messages()[-1]
    member.refresh_from_db()
    assert member.phone != "+8613800007777"


@pytest.mark.parametrize(
    ("language", "message"),
    [("en", "This is your number already."), ("zh-hans", "这已经是您的手机号。")],
)
def test_the_same_number_is_refused(client, member, language, message) -> None:
    response = _change(client, member, language, phone=member.phone)
    assert error(response) == (400, "invalid")
    assert response.json()["error"]["fields"] == {"phone": [message]}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"phone": "12345"},
        {"phone": "13800006666", "code": "12ab56"},
        {"phone": ""},
        {"phone": "1" * 40},
    ],
)
def test_bad_input_is_a_400(client, member, sms_log, body) -> None:
    response = _change(client, member, **body)
    assert error(response) == (400, "invalid")
    assert sms_log.messages() == []


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "This is corrected at the front desk, with your ID card."),
        ("zh-hans", "请携带身份证到前台更正。"),
    ],
)
def test_name_and_id_are_changed_at_the_front_desk(client, member, language, message) -> None:
    response = _change(client, member, language, phone="13800006666", name="张四")
    assert error(response) == (400, "invalid")
    assert response.json()["error"]["fields"] == {"name": [message]}
    member.refresh_from_db()
    assert member.name == "张三"


def test_changing_the_number_is_limited_as_on_the_website(client, member, sms_log) -> None:
    statuses = [_change(client, member, phone=f"1380000{n:04d}").status_code for n in range(1, 5)]
    assert statuses == [202, 202, 202, 429]  # 3 an hour per login (ACCOUNT_RATE_LIMITS)


def test_codes_to_one_number_are_limited(client, member, other_member, sms_log) -> None:
    assert _change(client, member, phone="13800006666").status_code == 202
    response = _change(client, other_member, phone="13800006666")
    assert error(response) == (429, "throttled")  # one code per number every 30 s


def test_staff_have_no_profile_to_change(client, front_desk) -> None:
    staff = pair_for(front_desk, second_factor=True).access
    response = call(client, "patch", "me", {"phone": "13800006666"}, token=staff)
    assert error(response) == (403, "permission_denied")


@pytest.mark.parametrize(("name", "most"), [("membership_points", 6), ("membership", 6)])
def test_membership_and_the_ledger_are_few_queries(
    client, member, ledger, name, most, django_assert_max_num_queries
) -> None:
    access = token(member)
    call(client, "get", name, token=access)
    # the login (unless cached), its token family, the console-permission check (two), the
    # member with their level, then the ledger page or the levels
    with django_assert_max_num_queries(most):
        assert call(client, "get", name, token=access).status_code == 200
