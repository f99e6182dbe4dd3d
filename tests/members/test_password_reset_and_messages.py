"""The members services behind the pages: password reset by texted code (logged, other
sessions end), messages read, and the selectors that scope a member's messages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import Http404
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from medbook.models import OperationLog
from members import codes, selectors, services
from members.exceptions import WrongCode
from members.models import Message, MessageKind
from tests.members.factories import MemberFactory

pytestmark = [pytest.mark.core, pytest.mark.django_db]

NEW = "Zx9#new-password"


def _message(member, **fields) -> Message:
    return Message.objects.create(
        member=member, kind=MessageKind.POINTS, title="t", body="b", **fields
    )


# -- password reset ---------------------------------------------------------------------------


def test_it_texts_a_reset_code_to_the_member_with_that_number(levels, sms_log) -> None:
    member = MemberFactory(phone="+8613700004444")

    assert services.send_password_reset_code(phone="137 0000 4444") == member
    assert "137****4444" in sms_log.messages()[-1]
    assert sms_log.code()


def test_it_texts_nobody_for_a_number_nobody_has(levels, sms_log) -> None:
    assert services.send_password_reset_code(phone="13700009999") is None
    assert sms_log.messages() == []


def test_it_sets_the_password_with_the_right_code_and_logs_it(levels) -> None:
    member = MemberFactory()
    code = codes.issue_code(purpose=services.RESET_PURPOSE, subject=str(member.pk))

    services.reset_password(member=member, code=code, password=NEW)

    member.user.refresh_from_db()
    assert member.user.check_password(NEW)
    row = OperationLog.objects.get(action="member.password_reset")
    assert (row.actor_id, row.target_id) == (member.user_id, str(member.pk))


def test_it_refuses_a_wrong_code_and_changes_nothing(levels) -> None:
    member = MemberFactory()
    code = codes.issue_code(purpose=services.RESET_PURPOSE, subject=str(member.pk))
    wrong = "000000" if code != "000000" else "111111"

    with pytest.raises(WrongCode) as refused:
        services.reset_password(member=member, code=wrong, password=NEW)

    assert (refused.value.field, refused.value.status) == ("code", 400)
    member.user.refresh_from_db()
    assert not member.user.check_password(NEW)
    assert not OperationLog.objects.filter(action="member.password_reset").exists()


def test_it_gives_the_same_refusal_when_the_number_was_nobodys(levels) -> None:
    with pytest.raises(WrongCode):
        services.reset_password(member=None, code="123456", password=NEW)


def test_it_ends_the_members_other_sessions(levels) -> None:
    member = MemberFactory()
    elsewhere = Client()
    elsewhere.force_login(member.user)
    assert elsewhere.get(reverse("members:profile")).status_code == 200
    code = codes.issue_code(purpose=services.RESET_PURPOSE, subject=str(member.pk))

    services.reset_password(member=member, code=code, password=NEW)

    assert elsewhere.get(reverse("members:profile")).status_code == 302


# -- messages ---------------------------------------------------------------------------------


def test_opening_a_message_marks_it_read_once(member) -> None:
    message = _message(member)
    first = timezone.now()

    services.mark_message_read(message=message, now=first)
    services.mark_message_read(message=message, now=first + dt.timedelta(hours=1))

    message.refresh_from_db()
    assert message.read_at == first


def test_read_all_marks_only_that_members_unread_messages(member, other_member) -> None:
    earlier = timezone.now() - dt.timedelta(days=1)
    read_before = _message(member, read_at=earlier)
    unread = [_message(member), _message(member)]
    theirs = _message(other_member)
    now = timezone.now()

    assert services.mark_all_messages_read(member=member, now=now) == 2

    assert {m.read_at for m in Message.objects.filter(pk__in=[u.pk for u in unread])} == {now}
    read_before.refresh_from_db()
    theirs.refresh_from_db()
    assert (read_before.read_at, theirs.read_at) == (earlier, None)


def test_another_members_message_is_not_found(member, other_member) -> None:
    theirs = _message(other_member)

    with pytest.raises(Http404):
        selectors.member_message(member=member, pk=theirs.pk)
    assert selectors.member_message(member=other_member, pk=theirs.pk) == theirs


def test_a_level_that_does_not_exist_is_not_found(levels) -> None:
    with pytest.raises(Http404):
        selectors.member_level(pk=0)
