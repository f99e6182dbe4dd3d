"""The session's user is read from Redis (medbook.backends), and every change to the user's row
still reaches the next request of every session: password, deactivation, logging out
everywhere, a row changed while another request was reading it. Real PostgreSQL and Redis."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from medbook import backends
from tests.members.factories import MemberFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_redis")]


def logged_in(member) -> Client:
    """A session of ``member``, as it is once the login's own save (last_login) is a few
    seconds old: the marker that save left in the cache has run out."""
    client = Client()
    client.force_login(member.user)
    caches["redis"].delete(backends._key(member.user_id))
    return client


def user_queries(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if 'FROM "members_user"' in q["sql"]]


def test_a_page_reads_the_login_from_redis_after_the_first(levels) -> None:
    client = logged_in(MemberFactory(level=levels["普通"]))
    assert client.get(reverse("members:profile")).status_code == 200

    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("members:profile")).status_code == 200

    assert user_queries(queries) == []


def test_a_new_password_ends_the_other_sessions_at_their_next_request(levels) -> None:
    member = MemberFactory(level=levels["普通"])
    other = logged_in(member)
    assert other.get(reverse("members:profile")).status_code == 200  # cached now

    member.user.set_password("a completely new one 2026")
    member.user.save()

    response = other.get(reverse("members:profile"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_deactivated_login_is_refused_at_its_next_request(levels) -> None:
    member = MemberFactory(level=levels["普通"])
    client = logged_in(member)
    assert client.get(reverse("members:profile")).status_code == 200

    member.user.is_active = False
    member.user.save(update_fields=["is_active"])

    assert client.get(reverse("members:profile")).status_code == 302


def test_logging_out_on_one_device_ends_the_others_despite_the_cache(levels) -> None:
    member = MemberFactory(level=levels["普通"])
    phone, laptop = logged_in(member), logged_in(member)
    assert laptop.get(reverse("members:profile")).status_code == 200  # cached now

    phone.post(reverse("account_logout"))  # a queryset update of session_epoch, no save()

    response = laptop.get(reverse("members:profile"))
    assert response.status_code == 302


def test_a_row_read_before_a_change_is_never_put_back_after_it(levels) -> None:
    """The race every cache-aside has: a request reads the row, another changes it and drops
    the cached copy, then the first one stores what it read. The drop's marker refuses it."""
    member = MemberFactory(level=levels["普通"])
    user_model = get_user_model()

    def load_then_changed_elsewhere(user_id):
        old = user_model.objects.get(pk=user_id)
        user_model.objects.filter(pk=user_id).update(is_active=False)
        backends.forget_user(user_id)  # what the change's writer does
        return old

    read = backends.cached_user(member.user_id, load_then_changed_elsewhere)
    assert read.is_active  # this request saw the row as it was

    again = backends.cached_user(member.user_id, lambda pk: user_model.objects.get(pk=pk))
    assert not again.is_active  # the next one is not served the old row


def test_without_redis_the_login_is_read_from_the_database(levels, settings) -> None:
    client = logged_in(MemberFactory(level=levels["普通"]))
    breaker = caches["default"].breaker
    breaker.failed(ConnectionError("refused"))  # as after a failed call: Redis is left alone
    try:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("members:profile")).status_code == 200
    finally:
        breaker.retry_now()
        breaker.succeeded()
    assert len(user_queries(queries)) == 1


def test_the_cached_login_holds_no_permission_cache(levels, front_desk) -> None:
    """Permissions are read per request as before: a role taken away counts at once."""
    client = Client()
    client.force_login(front_desk)
    assert client.get(reverse("staff:today")).status_code == 200
    front_desk.groups.clear()

    assert client.get(reverse("staff:today")).status_code == 403
