"""Login speed (issue 16, point 8): a member's good login hashes the password once (it hashed
twice: Django's backend ran first and hashed for an unknown username), passwords are Argon2id,
and a hash made before (PBKDF2) still logs in and is re-hashed."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password
from django.test import Client
from django.urls import reverse

from medbook.hashers import ClinicArgon2PasswordHasher
from tests.members.factories import PASSWORD, MemberFactory, sign_up

pytestmark = pytest.mark.django_db

PRODUCTION = [
    "medbook.hashers.ClinicArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]


class CountingArgon2(ClinicArgon2PasswordHasher):
    verified = 0

    def verify(self, password: str, encoded: str) -> bool:
        type(self).verified += 1
        return super().verify(password, encoded)

    def encode(self, password: str, salt: str) -> str:
        type(self).verified += 1
        return super().encode(password, salt)


def test_a_good_member_login_hashes_the_password_once(levels, settings) -> None:
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingArgon2"]
    member = MemberFactory(phone="+8613800007777")
    member.user.set_password(PASSWORD)
    member.user.save()
    CountingArgon2.verified = 0
    response = Client().post(
        reverse("account_login"), {"login": "13800007777", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert CountingArgon2.verified == 1


def test_passwords_are_argon2id_and_old_hashes_are_upgraded_on_login(levels, settings) -> None:
    settings.PASSWORD_HASHERS = PRODUCTION
    assert make_password("x").startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    member = MemberFactory(phone="+8613800008888")
    member.user.password = PBKDF2PasswordHasher().encode(PASSWORD, "oldsaltoldsalt", 1000)
    member.user.save()
    response = Client().post(
        reverse("account_login"), {"login": "13800008888", "password": PASSWORD}
    )
    assert response.status_code == 302
    member.user.refresh_from_db()
    assert member.user.password.startswith("argon2$argon2id$")


def test_a_sign_up_hashes_once_and_its_code_confirmation_not_at_all(
    levels, settings, sms_log
) -> None:
    """Sign-up speed (issue 16, point 8; bench/login.py): one hash for a new number and one
    for a registered number (the same work, so the time tells nobody who is a member); the
    code confirmation logs the member in without hashing again."""
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingArgon2"]
    MemberFactory(phone="+8613800006666")
    client = Client()
    CountingArgon2.verified = 0
    response = sign_up(client, phone="13800005555")
    assert response["Location"] == reverse("account_verify_phone")
    assert CountingArgon2.verified == 1

    CountingArgon2.verified = 0
    response = client.post(reverse("account_verify_phone"), {"code": sms_log.code()})
    assert response.status_code == 302
    assert CountingArgon2.verified == 0

    CountingArgon2.verified = 0
    response = sign_up(Client(), phone="13800006666")  # registered: no account, its owner texted
    assert response["Location"] == reverse("account_verify_phone")
    assert CountingArgon2.verified == 1
