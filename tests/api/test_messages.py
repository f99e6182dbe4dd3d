"""Issue 14: the member's messages through the API — newest first with cursor pagination (a
message arriving between pages neither repeats nor skips one), unread only, reading one marks
it read, another member's is a 404."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from members.models import Message
from members.services import send_message
from tests.api.helpers import call, error, pair_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def inbox(member):
    start = timezone.now() - dt.timedelta(hours=5)
    messages = []
    for n in range(5):
        message = send_message(member=member, kind="booked", title=f"消息{n}", body="正文")
        Message.objects.filter(pk=message.pk).update(created_at=start + dt.timedelta(hours=n))
        messages.append(message)
    return messages


def _list(client, token, **query):
    return call(client, "get", "messages", token=token, query=query)


def test_messages_come_newest_first_a_page_at_a_time(client, member, inbox) -> None:
    access = pair_for(member.user).access
    first = _list(client, access, page_size=2)
    assert first.status_code == 200
    body = first.json()
    assert [m["title"] for m in body["results"]] == ["消息4", "消息3"]
    assert body["previous"] is None
    # A new message arrives between the pages: the next page goes on where the first stopped.
    send_message(member=member, kind="paid", title="新消息", body="正文")
    second = client.get(body["next"], HTTP_AUTHORIZATION=f"Bearer {access}").json()
    assert [m["title"] for m in second["results"]] == ["消息2", "消息1"]
    third = client.get(second["next"], HTTP_AUTHORIZATION=f"Bearer {access}").json()
    assert [m["title"] for m in third["results"]] == ["消息0"]
    assert third["next"] is None


def test_unread_only_and_reading_marks_read(client, member, inbox) -> None:
    access = pair_for(member.user).access
    assert len(_list(client, access, unread="true").json()["results"]) == 5
    one = call(client, "get", "message", args=[inbox[0].pk], token=access).json()
    assert one["title"] == "消息0" and one["is_read"] is True and one["read_at"]
    unread = [m["title"] for m in _list(client, access, unread="true").json()["results"]]
    assert "消息0" not in unread and len(unread) == 4
    response = call(client, "post", "messages_read_all", token=access)
    assert response.status_code == 204
    assert _list(client, access, unread="true").json()["results"] == []


def test_another_members_message_is_not_found(client, member, other_member, inbox) -> None:
    access = pair_for(other_member.user).access
    assert error(call(client, "get", "message", args=[inbox[0].pk], token=access)) == (
        404,
        "not_found",
    )
    assert _list(client, access).json()["results"] == []
    assert Message.objects.get(pk=inbox[0].pk).read_at is None


def test_a_bad_cursor_or_filter_is_a_400(client, member, inbox) -> None:
    access = pair_for(member.user).access
    response = _list(client, access, cursor="not-a-cursor")
    assert error(response) == (400, "invalid")
    assert list(response.json()["error"]["fields"]) == ["cursor"]
    assert error(_list(client, access, unread="perhaps")) == (400, "invalid")


@pytest.mark.parametrize("page_size", ["0", "101", "-1", "two", "1.5", "null", ""])
def test_a_page_size_out_of_range_or_not_a_number_is_a_400(
    client, member, inbox, page_size
) -> None:
    """Not silently the default page (found by the fuzzer)."""
    response = _list(client, pair_for(member.user).access, page_size=page_size)
    assert error(response) == (400, "invalid")
    assert list(response.json()["error"]["fields"]) == ["page_size"]


@pytest.mark.parametrize("unread", ["", "1", "0", "yes", "True"])
def test_unread_is_true_or_false_as_the_schema_says(client, member, inbox, unread) -> None:
    response = _list(client, pair_for(member.user).access, unread=unread)
    assert error(response) == (400, "invalid")
    assert list(response.json()["error"]["fields"]) == ["unread"]


def test_the_message_list_is_few_queries(
    client, member, inbox, django_assert_max_num_queries
) -> None:
    access = pair_for(member.user).access
    _list(client, access)
    # the login (unless cached), its token family, the console-permission check of a login
    # without a second factor (two), the member, the page
    with django_assert_max_num_queries(6):
        assert _list(client, access).status_code == 200
