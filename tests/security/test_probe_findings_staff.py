"""Issue 10, the outside probe: staff console findings (levels by points, open redirect,
personal numbers in addresses, unparsed numbers)."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from appointments.models import Appointment, Holiday, ScheduleTemplate
from appointments.services import book_appointment
from medbook.models import OperationLog
from members import services
from members.models import Member, PointsEntry, PointsReason
from tests.appointments.factories import ScheduleFactory
from tests.conftest import enable_totp
from tests.members.factories import MemberFactory, UserFactory
from tests.security.world import running_since

pytestmark = pytest.mark.django_db

ID_NUMBER = "110105199003071239"


def _points(client, member: Member, delta: int | str, reason: str = "核对积分"):
    return client.post(
        reverse("staff:member", args=[member.pk]),
        {"action": "points", "points-delta": delta, "points-reason": reason},
    )


# -- 1: a level only through the level rule --


def test_it_does_not_keep_a_top_level_after_points_go_up_and_down(
    client, front_desk, member, levels
) -> None:
    client.force_login(front_desk)
    for delta in (100000, -100000):
        assert _points(client, member, delta).status_code == 302

    member.refresh_from_db()
    assert member.points_balance == 0
    assert member.level == levels["普通"]


def test_it_refuses_an_adjustment_beyond_the_bound_and_writes_nothing(
    client, front_desk, member
) -> None:
    client.force_login(front_desk)

    response = _points(client, member, 2000000000)

    assert response.status_code == 400
    assert "100000" in response.content.decode()
    assert not PointsEntry.objects.filter(member=member).exists()
    assert not OperationLog.objects.filter(action="member.adjust_points").exists()


def test_it_lowers_the_level_when_an_adjustment_takes_back_the_points(member, levels) -> None:
    clerk = _clerk()
    services.adjust_points(member=member, delta=600, note="补录", by=clerk)
    member.refresh_from_db()
    assert member.level == levels["银卡"]

    services.adjust_points(member=member, delta=-200, note="补录有误", by=clerk)

    member.refresh_from_db()
    assert member.level == levels["普通"]


def test_it_keeps_the_level_when_points_are_redeemed(member, levels) -> None:
    services.add_points(member=member, delta=600, reason=PointsReason.VISIT)
    services.add_points(member=member, delta=-500, reason=PointsReason.REDEMPTION)

    member.refresh_from_db()
    assert (member.points_balance, member.level) == (100, levels["银卡"])


def test_it_keeps_a_level_granted_by_staff_until_points_pass_it(member, levels) -> None:
    admin = _level_admin()
    services.change_level(member=member, level=levels["金卡"], by=admin, reason="老客户回馈")
    services.adjust_points(member=member, delta=100, note="补发", by=admin)
    services.adjust_points(member=member, delta=-50, note="补发有误", by=admin)
    member.refresh_from_db()
    assert member.level == levels["金卡"]
    call_command("check_integrity", stdout=io.StringIO())

    services.add_points(member=member, delta=6000, reason=PointsReason.VISIT)
    member.refresh_from_db()
    assert member.level == levels["钻石"] and member.level_grant is None


def test_check_integrity_reports_a_level_the_rule_does_not_give(member, levels) -> None:
    Member.objects.filter(pk=member.pk).update(level=levels["钻石"])
    out = io.StringIO()

    with pytest.raises(CommandError, match="1 integrity problem"):
        call_command("check_integrity", stdout=out)
    assert f"member {member.pk}: level 钻石会员 but the level rule gives 普通会员" in out.getvalue()


def test_check_integrity_accepts_a_recorded_level_grant(member, levels) -> None:
    services.change_level(member=member, level=levels["钻石"], by=_level_admin(), reason="董事会")

    out = io.StringIO()
    call_command("check_integrity", stdout=out)
    assert "all agree" in out.getvalue()


def test_it_reapplies_the_rule_when_a_threshold_changes(client, clinic_admin, levels) -> None:
    silver = MemberFactory(level=levels["普通"])
    services.add_points(member=silver, delta=600, reason=PointsReason.VISIT)
    client.force_login(clinic_admin)
    level = levels["银卡"]

    response = client.post(
        reverse("staff:level_edit", args=[level.pk]),
        {
            "name": level.name,
            "min_points": 700,
            "booking_lead_hours": level.booking_lead_hours,
            "discount_rate": level.discount_rate,
            "max_active_appointments": level.max_active_appointments,
            "points_multiplier": level.points_multiplier,
            "reschedules_per_booking": level.reschedules_per_booking,
        },
    )

    assert response.status_code == 302
    silver.refresh_from_db()
    assert silver.level == levels["普通"]
    call_command("check_integrity", stdout=io.StringIO())


def _clerk():
    from django.contrib.auth.models import Permission

    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="adjust_points"))
    return type(user).objects.get(pk=user.pk)


def _level_admin():
    from django.contrib.auth.models import Permission

    user = UserFactory()
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["adjust_points", "change_member_level"])
    )
    return type(user).objects.get(pk=user.pk)


# -- 2: the admin login follows only a local next --


@pytest.fixture
def superuser(db):
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    enable_totp(user)
    return user


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "foo"]
)
def test_it_does_not_send_a_superuser_off_site_from_the_admin_login(
    client, superuser, target
) -> None:
    client.force_login(superuser)

    response = client.get(reverse("admin:login"), {"next": target})

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")


def test_it_follows_a_local_next_from_the_admin_login(client, superuser) -> None:
    client.force_login(superuser)
    target = reverse("admin:members_member_changelist")

    response = client.get(reverse("admin:login"), {"next": target})

    assert response["Location"] == target


def test_it_sends_an_anonymous_visitor_to_the_staff_login_with_a_local_next_only(client) -> None:
    response = client.get(reverse("admin:login"), {"next": "https://evil.example/"})

    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


# -- 4: no phone or ID number in an address --


def test_it_searches_members_by_post_and_keeps_the_number_out_of_every_address(
    client, front_desk, levels
) -> None:
    found = MemberFactory(name="王芳", phone="+8613800138000", level=levels["普通"])
    client.force_login(front_desk)

    posted = client.post(reverse("staff:members"), {"q": "13800138000"})

    assert posted.status_code == 302
    assert "13800138000" not in posted["Location"]
    page = client.get(posted["Location"])
    assert page.status_code == 200
    assert reverse("staff:member", args=[found.pk]) in page.content.decode()
    assert "13800138000" not in page.content.decode()  # not even in the search box


def test_it_ignores_a_number_put_in_the_search_address(client, front_desk, levels) -> None:
    MemberFactory(name="王芳", phone="+8613800138000", level=levels["普通"])
    client.force_login(front_desk)

    page = client.get(reverse("staff:members"), {"q": "13800138000"})

    assert page.status_code == 200
    assert "王芳" not in page.content.decode()


def test_it_pages_through_a_search_without_the_query_in_the_address(
    client, front_desk, levels
) -> None:
    for n in range(25):
        MemberFactory(name=f"张{n:02d}", level=levels["普通"])
    client.force_login(front_desk)

    first = client.get(client.post(reverse("staff:members"), {"q": "张"})["Location"])
    links = re.findall(r'href="(\?[^"]*page=2[^"]*)"', first.content.decode())
    assert links, "no link to page 2"
    second = client.get(reverse("staff:members") + links[0].replace("&amp;", "&"))

    assert second.status_code == 200
    assert "张24" in second.content.decode() and "张00" not in second.content.decode()


def test_it_looks_up_check_in_by_post_and_keeps_the_number_out_of_every_address(
    client, front_desk, levels
) -> None:
    start = running_since()
    schedule = ScheduleFactory(
        date=start.date(),
        start_time=start.time().replace(microsecond=0),
        end_time=dt.time(23, 59, 59),
        fee=0,
        release_at=timezone.now() - dt.timedelta(days=2),
    )
    patient = MemberFactory(name="赵敏", phone="+8613912340000", level=levels["普通"])
    book_appointment(
        member=patient, schedule=schedule, channel="web", now=schedule.starts_at - dt.timedelta(1)
    )
    client.force_login(front_desk)

    posted = client.post(reverse("staff:check_in"), {"phone": "139 1234 0000"})

    assert posted.status_code == 302
    assert "1234" not in posted["Location"]
    page = client.get(posted["Location"])
    body = page.content.decode()
    assert "赵敏" in body
    assert "13912340000" not in body and "139 1234 0000" not in body
    assert client.get(reverse("staff:check_in"), {"phone": "13912340000"}).status_code == 200
    assert (
        "赵敏"
        not in client.get(reverse("staff:check_in"), {"phone": "13912340000"}).content.decode()
    )


def test_an_expired_search_shows_an_empty_search(client, front_desk) -> None:
    client.force_login(front_desk)

    page = client.get(reverse("staff:members"), {"search": "no-such-token"})

    assert page.status_code == 200


# -- 7: unparsed numbers are a 400, never a 500 --


def test_it_refuses_points_beyond_the_database_range_with_a_400(client, front_desk, member) -> None:
    client.force_login(front_desk)

    response = _points(client, member, 2**31)

    assert response.status_code == 400
    assert not PointsEntry.objects.filter(member=member).exists()


def test_it_refuses_a_session_that_is_not_a_number_with_a_400(client, front_desk, member) -> None:
    client.force_login(front_desk)

    response = client.post(reverse("staff:member_book", args=[member.pk]), {"schedule": "abc"})

    assert response.status_code == 400
    assert not Appointment.objects.exists()


@pytest.mark.parametrize("action", ["delete_holiday", "delete_template"])
def test_it_refuses_a_template_or_holiday_id_that_is_not_a_number(
    client, clinic_admin, action
) -> None:
    client.force_login(clinic_admin)

    response = client.post(reverse("staff:templates"), {"action": action, "pk": "abc"})

    assert response.status_code == 400
    assert Holiday.objects.count() == 0 and ScheduleTemplate.objects.count() == 0
