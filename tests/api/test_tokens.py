"""Issue 14: the API's JSON Web Tokens — what is refused (expired, another algorithm, `none`,
another audience or issuer, a changed signature, an unknown key), key rotation, refresh
rotation with reuse detection, and the ways a login ends (logout, logout everywhere, a new
password)."""

from __future__ import annotations

import base64
import datetime as dt
import time

import jwt
import pytest
from django.test import Client
from django.urls import reverse

from medbook.api import tokens
from medbook.models import ApiTokenFamily, TokenRevocation
from tests.api.helpers import PASSWORD, call, error, log_in, pair_for
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db

KEY_A = base64.b64encode(b"a" * 32).decode()
KEY_B = base64.b64encode(b"b" * 32).decode()


def test_keys_are_checked_when_read(settings) -> None:
    from django.core.exceptions import ImproperlyConfigured

    for wrong in [
        "a",
        f"a{KEY_A}",
        "a:bm90LWJhc2U2NA!!",
        f"a:{base64.b64encode(b'short').decode()}",
    ]:
        settings.MEDBOOK_API_JWT_KEYS = wrong
        with pytest.raises(ImproperlyConfigured):
            tokens.key_ring()
    settings.MEDBOOK_API_JWT_KEYS, settings.MEDBOOK_API_JWT_SIGNING_KID = f"a:{KEY_A}", "b"
    with pytest.raises(ImproperlyConfigured):
        tokens.key_ring()


@pytest.fixture
def patient(levels):
    member = MemberFactory(phone="+8613700003333", name="王五")
    member.user.set_password(PASSWORD)
    member.user.save()
    return member


def _me(client: Client, token: str):
    return call(client, "get", "me", token=token)


def _claims(raw: str) -> dict:
    return jwt.decode(raw, options={"verify_signature": False})


def _forge(claims: dict, *, key: bytes, alg: str = "HS256", kid: str = "k0") -> str:
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


def _signing_key() -> bytes:
    kid, keys = tokens.key_ring()
    return keys[kid]


def test_it_logs_a_member_in_with_number_and_password(client, patient) -> None:
    response = log_in(client, "13700003333")
    assert response.status_code == 200, response.content
    body = response.json()
    assert response["Cache-Control"] == "no-store"
    assert not response.cookies  # no web session: the tokens are the login
    claims = _claims(body["access"])
    assert claims["aud"] == "medbook-api" and claims["iss"] == "medbook"
    assert claims["exp"] - claims["iat"] == 10 * 60
    assert jwt.get_unverified_header(body["access"])["kid"] == "k0"
    me = _me(client, body["access"])
    assert me.status_code == 200
    assert me.json()["masked_phone"] == "137****3333"
    assert "13700003333" not in me.content.decode()


def test_it_refuses_a_wrong_password_with_one_code(client, patient) -> None:
    assert error(log_in(client, "13700003333", "not-the-password")) == (401, "invalid_login")
    assert error(log_in(client, "13700009999", "not-the-password")) == (401, "invalid_login")


def test_it_refuses_an_expired_access_token(client, patient) -> None:
    pair = pair_for(patient.user)
    claims = _claims(pair.access) | {"iat": int(time.time()) - 700, "exp": int(time.time()) - 60}
    assert error(_me(client, _forge(claims, key=_signing_key()))) == (401, "token_expired")


@pytest.mark.parametrize("alg", ["HS384", "HS512"])
def test_it_refuses_another_hmac_algorithm_even_with_the_right_key(client, patient, alg) -> None:
    claims = _claims(pair_for(patient.user).access)
    assert len(_signing_key()) == 64  # long enough for each: only the algorithm is wrong
    assert error(_me(client, _forge(claims, key=_signing_key(), alg=alg))) == (401, "token_invalid")


def test_it_refuses_a_public_key_algorithm(client, patient) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    claims = _claims(pair_for(patient.user).access)
    forged = _forge(claims, key=ec.generate_private_key(ec.SECP256R1()), alg="ES256")
    assert error(_me(client, forged)) == (401, "token_invalid")


def test_it_refuses_an_unsigned_token(client, patient) -> None:
    claims = _claims(pair_for(patient.user).access)
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": "k0"})
    assert unsigned.endswith(".")
    assert error(_me(client, unsigned)) == (401, "token_invalid")
    # alg "none" spelled otherwise, with a signature attached: the same.
    header = base64.urlsafe_b64encode(b'{"alg":"None","kid":"k0","typ":"JWT"}').rstrip(b"=")
    signed = _forge(claims, key=_signing_key())
    forged = header.decode() + signed[signed.index(".") :]
    assert error(_me(client, forged)) == (401, "token_invalid")


@pytest.mark.parametrize(("claim", "value"), [("aud", "another-api"), ("iss", "someone-else")])
def test_it_refuses_another_audience_or_issuer(client, patient, claim, value) -> None:
    claims = _claims(pair_for(patient.user).access) | {claim: value}
    assert error(_me(client, _forge(claims, key=_signing_key()))) == (401, "token_invalid")


@pytest.mark.parametrize("claim", ["aud", "iss", "exp", "jti", "sub"])
def test_it_refuses_a_token_missing_a_required_claim(client, patient, claim) -> None:
    claims = _claims(pair_for(patient.user).access)
    del claims[claim]
    assert error(_me(client, _forge(claims, key=_signing_key()))) == (401, "token_invalid")


def test_it_refuses_a_tampered_token(client, patient, other_member) -> None:
    access = pair_for(patient.user).access
    header, payload, signature = access.split(".")
    claims = _claims(access) | {"sub": str(other_member.user.pk)}
    other_payload = _forge(claims, key=b"x" * 32).split(".")[1]
    assert error(_me(client, f"{header}.{other_payload}.{signature}")) == (401, "token_invalid")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    assert error(_me(client, f"{header}.{payload}.{flipped}")) == (401, "token_invalid")
    assert error(_me(client, "not-a-token")) == (401, "token_invalid")


def test_it_refuses_a_key_it_does_not_know(client, patient) -> None:
    claims = _claims(pair_for(patient.user).access)
    assert error(_me(client, _forge(claims, key=_signing_key(), kid="k9"))) == (
        401,
        "token_invalid",
    )
    assert error(_me(client, _forge(claims, key=b"z" * 32, kid="k0"))) == (401, "token_invalid")


def test_it_refuses_a_refresh_token_as_an_access_token(client, patient) -> None:
    assert error(_me(client, pair_for(patient.user).refresh)) == (401, "token_invalid")


def test_a_rotated_key_still_verifies_until_it_is_dropped(client, patient, settings) -> None:
    settings.MEDBOOK_API_JWT_KEYS = f"a:{KEY_A}"
    old = pair_for(patient.user)
    assert jwt.get_unverified_header(old.access)["kid"] == "a"
    # Rotation: b signs from now on, a still verifies.
    settings.MEDBOOK_API_JWT_KEYS = f"b:{KEY_B},a:{KEY_A}"
    assert _me(client, old.access).status_code == 200
    new = pair_for(patient.user)
    assert jwt.get_unverified_header(new.access)["kid"] == "b"
    assert _me(client, new.access).status_code == 200
    # The signing key can also be named.
    settings.MEDBOOK_API_JWT_SIGNING_KID = "a"
    assert jwt.get_unverified_header(pair_for(patient.user).access)["kid"] == "a"
    # a dropped: its tokens stop working, b's go on.
    settings.MEDBOOK_API_JWT_KEYS, settings.MEDBOOK_API_JWT_SIGNING_KID = f"b:{KEY_B}", ""
    assert error(_me(client, old.access)) == (401, "token_invalid")
    assert _me(client, new.access).status_code == 200


def test_it_rotates_the_refresh_token(client, patient) -> None:
    first = pair_for(patient.user)
    response = call(client, "post", "auth_token_refresh", {"refresh": first.refresh})
    assert response.status_code == 200
    second = response.json()
    assert second["refresh"] != first.refresh
    assert _claims(second["refresh"])["fam"] == str(first.family.id)
    assert _me(client, second["access"]).status_code == 200
    third = call(client, "post", "auth_token_refresh", {"refresh": second["refresh"]})
    assert third.status_code == 200
    # One row per login, however often it refreshes: it holds the current token's id.
    family = ApiTokenFamily.objects.get(user=patient.user)
    assert family.current_jti == _claims(third.json()["refresh"])["jti"]


def test_a_reused_refresh_token_revokes_the_whole_family(client, patient) -> None:
    first = pair_for(patient.user)
    second = call(client, "post", "auth_token_refresh", {"refresh": first.refresh}).json()
    # Someone kept a copy of the first refresh token and uses it again.
    reused = call(client, "post", "auth_token_refresh", {"refresh": first.refresh})
    assert error(reused) == (401, "token_reused")
    family = ApiTokenFamily.objects.get(pk=first.family.id)
    assert family.revoked_reason == TokenRevocation.REUSE
    # The owner's current tokens of that family are dead too.
    assert error(call(client, "post", "auth_token_refresh", {"refresh": second["refresh"]})) == (
        401,
        "token_revoked",
    )
    assert error(_me(client, second["access"])) == (401, "token_revoked")
    # Another login of the same member is not affected.
    assert _me(client, pair_for(patient.user).access).status_code == 200


def test_an_expired_refresh_token_is_refused(client, patient) -> None:
    claims = _claims(pair_for(patient.user).refresh) | {"exp": int(time.time()) - 1}
    response = call(
        client, "post", "auth_token_refresh", {"refresh": _forge(claims, key=_signing_key())}
    )
    assert error(response) == (401, "token_expired")


def test_logout_ends_this_login_only(client, patient) -> None:
    this, other = pair_for(patient.user), pair_for(patient.user)
    assert call(client, "post", "auth_logout", token=this.access).status_code == 204
    assert error(_me(client, this.access)) == (401, "token_revoked")
    assert error(call(client, "post", "auth_token_refresh", {"refresh": this.refresh})) == (
        401,
        "token_revoked",
    )
    assert _me(client, other.access).status_code == 200


def test_logout_everywhere_ends_api_logins_and_web_sessions(client, patient) -> None:
    web = Client()
    response = web.post(reverse("account_login"), {"login": "13700003333", "password": PASSWORD})
    assert response.status_code == 302
    assert web.get(reverse("members:profile")).status_code == 200
    this, other = pair_for(patient.user), pair_for(patient.user)
    response = call(client, "post", "auth_logout", {"everywhere": True}, token=this.access)
    assert response.status_code == 204
    assert error(_me(client, other.access)) == (401, "token_revoked")
    assert error(call(client, "post", "auth_token_refresh", {"refresh": other.refresh})) == (
        401,
        "token_revoked",
    )
    assert web.get(reverse("members:profile")).status_code == 302  # sent to log in again


@pytest.mark.parametrize("everywhere", [0, 1, "yes", "true", None])
def test_logout_everywhere_is_a_json_boolean(client, patient, everywhere) -> None:
    """Not 0/1 or "yes" (found by the fuzzer): refused, and nothing is logged out."""
    this = pair_for(patient.user)
    response = call(client, "post", "auth_logout", {"everywhere": everywhere}, token=this.access)
    assert error(response) == (400, "invalid")
    assert list(response.json()["error"]["fields"]) == ["everywhere"]
    assert _me(client, this.access).status_code == 200


def test_a_web_logout_ends_api_logins_too(client, patient) -> None:
    web = Client()
    web.post(reverse("account_login"), {"login": "13700003333", "password": PASSWORD})
    pair = pair_for(patient.user)
    assert _me(client, pair.access).status_code == 200
    web.post(reverse("account_logout"))
    assert error(_me(client, pair.access)) == (401, "token_revoked")


def test_a_password_change_ends_api_logins(client, patient) -> None:
    pair = pair_for(patient.user)
    patient.user.set_password("An0ther!password-2026")
    patient.user.save()
    assert error(_me(client, pair.access)) == (401, "token_revoked")
    response = call(client, "post", "auth_token_refresh", {"refresh": pair.refresh})
    assert error(response) == (401, "token_revoked")
    assert ApiTokenFamily.objects.get(pk=pair.family.id).revoked_reason == TokenRevocation.EPOCH


def test_a_deactivated_login_is_refused(client, patient) -> None:
    pair = pair_for(patient.user)
    patient.user.is_active = False
    patient.user.save()
    assert error(_me(client, pair.access)) == (401, "token_revoked")


def test_the_access_token_lives_ten_minutes(client, patient) -> None:
    pair = pair_for(patient.user)
    assert pair.access_expires_at - dt.datetime.now(dt.UTC) <= dt.timedelta(minutes=10)
    assert pair.access_expires_at - dt.datetime.now(dt.UTC) > dt.timedelta(minutes=9)


def test_a_members_request_is_few_queries(client, patient, django_assert_num_queries) -> None:
    from django.core.cache import caches

    caches["redis"].delete(f"login:{patient.user.pk}")  # the factory's "changed" marker
    access = pair_for(patient.user).access
    assert _me(client, access).status_code == 200  # the login is now read from Redis
    # the token's family, the console-permission check of a login without a second factor
    # (its two queries), the member
    with django_assert_num_queries(4):
        assert _me(client, access).status_code == 200
