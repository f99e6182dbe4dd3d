"""Issue 10, accounts: sign-up timing tells nobody who is registered (finding 3), no phone number
or username in plain text in any cache key (finding 9), and allauth's rate limits answer 429
with a message, never 500 (finding 12)."""

from __future__ import annotations

import statistics
import time

import pytest
import redis
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.test import Client
from django.urls import reverse

from medbook.roles import FRONT_DESK
from members.models import Member
from tests.conftest import staff_user
from tests.members.factories import PASSWORD, MemberFactory, sign_up

pytestmark = pytest.mark.django_db


class CountingHasher(PBKDF2PasswordHasher):
    """The production hasher, counting how often a password is hashed (few rounds: fast)."""

    iterations = 1000
    encoded = 0

    def encode(self, password: str, salt: str, iterations: int | None = None) -> str:
        type(self).encoded += 1
        return super().encode(password, salt, iterations)


# -- finding 3: sign-up does the same work whether the number is registered --------------------


def test_it_hashes_the_password_on_sign_up_whether_or_not_the_number_is_registered(
    levels, settings
) -> None:
    MemberFactory(phone="+8613800001111")
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]

    CountingHasher.encoded = 0
    new = sign_up(Client(), "13800002222")
    hashed_for_new = CountingHasher.encoded

    CountingHasher.encoded = 0
    registered = sign_up(Client(), "13800001111")
    hashed_for_registered = CountingHasher.encoded

    assert new["Location"] == registered["Location"] == reverse("account_verify_phone")
    assert hashed_for_new >= 1
    assert hashed_for_registered == hashed_for_new


def test_it_answers_sign_up_in_about_the_same_time_for_new_and_registered_numbers(
    levels, settings
) -> None:
    """With the real (production) hasher, the medians of both cases are close."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    tries = 4
    for n in range(tries):
        MemberFactory(phone=f"+861380000{n:04d}")

    def timed(phone: str, n: int) -> float:
        client = Client(REMOTE_ADDR=f"10.1.0.{n}")
        started = time.perf_counter()
        response = sign_up(client, phone)
        elapsed = time.perf_counter() - started
        assert response.status_code == 302
        return elapsed

    registered, new = [], []
    for n in range(tries):  # interleaved, so load on the machine hits both alike
        registered.append(timed(f"1380000{n:04d}", n))
        new.append(timed(f"1380001{n:04d}", n + 100))
    fast, slow = sorted([statistics.median(registered), statistics.median(new)])
    assert slow < fast * 2, (registered, new)


# -- finding 9: no phone number or username in any cache key -----------------------------------


def _redis_keys() -> list[str]:
    server = redis.Redis.from_url(settings.REDIS_URL)
    return [key.decode() for key in server.scan_iter(count=1000)]


def test_it_keeps_phone_numbers_and_usernames_out_of_redis_keys(levels, settings) -> None:
    assert "redis" in settings.CACHES["redis"]["BACKEND"].lower()
    MemberFactory(phone="+8613700001111")
    staff_user("deskuser1", FRONT_DESK)
    client = Client()
    for login in ("13700001111", "13700002222", "deskuser1"):  # member, stranger, staff
        for _ in range(settings.MEDBOOK_LOGIN_FAILURES + 1):
            client.post(reverse("account_login"), {"login": login, "password": "wrong"})
    client.post(reverse("members:password_reset"), {"phone": "13700001111"})
    client.post(reverse("members:password_reset"), {"phone": "13700002222"})
    sign_up(Client(), "13700003333")

    keys = _redis_keys()
    assert any(":throttle:" in key for key in keys), keys  # the counters are there
    for secret in ("13700001111", "13700002222", "13700003333", "deskuser1"):
        leaked = [key for key in keys if secret in key]
        assert leaked == [], leaked


# -- finding 12: allauth's rate limits are a 429 with a message --------------------------------


def test_it_answers_429_not_500_to_a_second_sign_up_of_a_registered_number(levels) -> None:
    MemberFactory(phone="+8613900001111")
    client = Client(raise_request_exception=False)
    first = sign_up(client, "13900001111")
    assert first.status_code == 302
    again = sign_up(Client(raise_request_exception=False), "13900001111")
    assert again.status_code == 429
    page = again.content.decode()
    assert "请稍后" in page or "过于频繁" in page


def test_it_answers_429_when_a_new_sign_up_cannot_be_texted_and_writes_nothing(
    levels,
) -> None:
    """A code was just sent to the number (someone moved their account to it): the sign-up
    waits, and creates no account it could not verify."""
    client = Client(raise_request_exception=False)
    sign_up(client, "13900002222")  # creates the account, texts the code
    Member.objects.all().delete()
    again = sign_up(Client(raise_request_exception=False), "13900002222")
    assert again.status_code == 429
    assert not Member.objects.exists()


def test_it_answers_429_when_an_unverified_member_logs_in_twice_quickly(levels) -> None:
    member = MemberFactory(phone="+8613900003333", phone_verified=False)
    member.user.set_password(PASSWORD)
    member.user.save()
    data = {"login": "13900003333", "password": PASSWORD}
    first = Client(raise_request_exception=False).post(reverse("account_login"), data)
    assert first["Location"] == reverse("account_verify_phone")
    second = Client(raise_request_exception=False).post(reverse("account_login"), data)
    assert second.status_code == 429


def test_it_answers_429_when_a_number_change_is_asked_twice_quickly(levels) -> None:
    member = MemberFactory(phone="+8613900004444")
    client = Client(raise_request_exception=False)
    client.force_login(member.user)
    client.post(reverse("account_change_phone"), {"phone": "13900005555"})
    other = MemberFactory(phone="+8613900006666")
    client2 = Client(raise_request_exception=False)
    client2.force_login(other.user)
    response = client2.post(reverse("account_change_phone"), {"phone": "13900005555"})
    assert response.status_code == 429


def test_it_hashes_as_often_on_login_whether_or_not_the_number_is_registered(
    levels, settings
) -> None:
    """A guard against sign-up's timing leak on the login page: a wrong password for a
    member's number and any password for a stranger's number cost the same hashing (Django's
    ModelBackend hashes for an unknown username, allauth's backend for a known number)."""
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    member = MemberFactory(phone="+8613800003333")
    member.user.set_password(PASSWORD)
    member.user.save()

    counts = []
    for login in ("13800003333", "13800004444"):
        CountingHasher.encoded = 0
        response = Client().post(reverse("account_login"), {"login": login, "password": "x1"})
        assert response.status_code == 200
        counts.append(CountingHasher.encoded)
    assert counts[0] == counts[1] >= 1, counts
