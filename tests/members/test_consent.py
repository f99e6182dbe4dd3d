"""Consent (PIPL): sign-up needs both ticks, a new version of the terms or privacy policy is
asked again at the next login (members only), the sensitive-information consent is asked before
booking on the web and in the API, and consents are stored with kind, version, time and IP."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from medbook.api.tokens import issue_tokens
from medbook.models import OperationLog
from members.consent import Consent
from members.consents import current_agreements, pending_kinds
from members.models import Member
from tests.appointments.factories import ScheduleFactory
from tests.members.agreements import consent, publish, publish_all
from tests.members.factories import PASSWORD, sign_up


def _bearer(user) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {issue_tokens(user=user, second_factor=False).access}"}


@pytest.mark.django_db
def test_it_refuses_a_sign_up_without_the_two_ticks(client, levels, sms_log) -> None:
    publish_all()
    response = client.post(
        reverse("account_signup"),
        {"name": "陈晓明", "phone": "13912345678", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "请阅读并同意《用户协议》" in page or "Please read and agree to the Terms" in page
    assert not Member.objects.exists() and sms_log.messages() == []


@pytest.mark.django_db
def test_the_sign_up_page_has_both_ticks_unticked_and_links_the_documents(client) -> None:
    page = client.get(reverse("account_signup")).content.decode()
    for name in ("accept_terms", "accept_privacy"):
        tag = page[page.index(f'name="{name}"') - 40 : page.index(f'name="{name}"') + 80]
        assert 'type="checkbox"' in tag and "checked" not in tag
    assert reverse("members:legal", args=["terms"]) in page
    assert reverse("members:legal", args=["privacy"]) in page


@pytest.mark.django_db
def test_a_sign_up_with_the_ticks_records_both_consents_with_version_time_and_address(
    client, levels, sms_log
) -> None:
    terms, privacy, _sensitive = publish_all("2026-11")
    sign_up(client)
    member = Member.objects.get()
    rows = {c.kind: c for c in Consent.objects.filter(user=member.user)}
    assert set(rows) == {"terms", "privacy"}  # the sensitive one is asked before booking
    assert rows["terms"].agreement == terms and rows["terms"].version == "2026-11"
    assert rows["privacy"].agreement == privacy and rows["privacy"].ip == "127.0.0.1"
    assert timezone.now() - rows["terms"].accepted_at < dt.timedelta(minutes=1)


@pytest.mark.django_db
def test_a_new_version_is_asked_again_at_the_next_login_and_only_then_lets_go(
    client, member
) -> None:
    old = publish("terms", "1", ago=dt.timedelta(days=30))
    publish("privacy", "1", ago=dt.timedelta(days=30))
    consent(member.user)
    client.force_login(member.user)
    assert client.get(reverse("billing:appointments")).status_code == 200

    new = publish("terms", "2")
    assert pending_kinds(user=member.user) == [new]
    assert current_agreements()["terms"] == new != old
    client.force_login(member.user)  # the next login
    response = client.get(reverse("billing:appointments"))
    assert response.status_code == 303
    assert response["Location"].startswith(reverse("members:consent"))
    page = client.get(response["Location"])
    assert page.status_code == 200 and "第一段 terms 2" in page.content.decode()

    refused = client.post(response["Location"], {"next": reverse("billing:appointments")})
    assert refused.status_code == 400
    assert client.get(reverse("billing:appointments")).status_code == 303

    accepted = client.post(
        response["Location"], {"agree": "on", "next": reverse("billing:appointments")}
    )
    assert accepted.status_code == 302 and accepted["Location"] == reverse("billing:appointments")
    assert Consent.objects.filter(user=member.user, agreement=new).count() == 1
    assert client.get(reverse("billing:appointments")).status_code == 200
    assert OperationLog.objects.filter(action="consent.accept", actor=member.user).exists()


@pytest.mark.django_db
def test_the_public_pages_show_the_current_version(client) -> None:
    publish("terms", "1", ago=dt.timedelta(days=3))
    publish("terms", "2")
    publish("privacy", "1")
    response = client.get(reverse("members:legal", args=["terms"]))
    assert response.status_code == 200 and "第一段 terms 2" in response.content.decode()
    assert client.get(reverse("members:legal", args=["privacy"])).status_code == 200
    assert client.get(reverse("members:legal", args=["nonsense"])).status_code == 404


@pytest.mark.django_db
def test_a_draft_is_not_the_current_version(client, member) -> None:
    publish("terms", "1")
    consent(member.user)
    publish("terms", "2").__class__.objects.filter(version="2").update(published_at=None)
    client.force_login(member.user)
    assert client.get(reverse("billing:appointments")).status_code == 200


@pytest.mark.django_db
def test_staff_are_never_asked(client, clinic_admin) -> None:
    publish_all()
    client.force_login(clinic_admin)
    assert "medbook_consent_pending" not in client.session


@pytest.mark.django_db
def test_the_booking_page_asks_the_sensitive_consent_first_then_comes_back(client, member) -> None:
    publish_all()
    consent(member.user, *[a for k, a in current_agreements().items() if k != "sensitive"])
    schedule = ScheduleFactory(fee=Decimal("0"))
    book = reverse("billing:book", args=[schedule.pk])
    client.force_login(member.user)

    response = client.get(book)
    assert response.status_code == 303
    assert (
        response["Location"]
        == f"{reverse('members:consent_sensitive')}?next=%2Fbook%2F{schedule.pk}%2F"
    )
    posted = client.post(book)  # a booking without the consent books nothing
    assert posted.status_code == 303 and not member.appointments.exists()

    accepted = client.post(response["Location"], {"agree": "on", "next": book})
    assert accepted["Location"] == book
    assert client.get(book).status_code == 200
    assert client.post(book).status_code == 302
    assert member.appointments.count() == 1


@pytest.mark.django_db
def test_the_api_refuses_a_booking_without_the_sensitive_consent_and_offers_to_accept_it(
    client, member
) -> None:
    publish_all()
    schedule = ScheduleFactory(fee=Decimal("0"))
    headers = _bearer(member.user)
    url = reverse("api:appointments")
    response = client.post(
        url, {"schedule": schedule.pk}, content_type="application/json", **headers
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "sensitive_consent_required"
    assert not member.appointments.exists()

    listed = client.get(reverse("api:consents"), **headers).json()
    assert {row["kind"]: row["accepted"] for row in listed} == {
        "terms": False,
        "privacy": False,
        "sensitive": False,
    }
    bad = client.post(
        reverse("api:consents"), {"kinds": ["nope"]}, content_type="application/json", **headers
    )
    assert bad.status_code == 400
    accepted = client.post(
        reverse("api:consents"),
        {"kinds": ["sensitive"]},
        content_type="application/json",
        **headers,
    )
    assert accepted.status_code == 200
    assert {row["kind"]: row["accepted"] for row in accepted.json()}["sensitive"] is True
    booked = client.post(url, {"schedule": schedule.pk}, content_type="application/json", **headers)
    assert booked.status_code == 201


@pytest.mark.django_db
def test_with_no_published_documents_nothing_is_asked(client, member) -> None:
    schedule = ScheduleFactory(fee=Decimal("0"))
    client.force_login(member.user)
    assert client.get(reverse("billing:book", args=[schedule.pk])).status_code == 200


@pytest.mark.django_db
def test_the_consent_page_in_chinese(client, member) -> None:
    publish("sensitive", "1")
    client.force_login(member.user)
    with override("zh-hans"):
        page = client.get(reverse("members:consent_sensitive"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "同意" in page.content.decode()


@pytest.mark.django_db
def test_a_new_sensitive_version_is_asked_before_the_next_booking(client, member) -> None:
    from members.consents import forget_current_agreements

    publish("sensitive", "1", ago=dt.timedelta(days=3))
    consent(member.user)
    schedule = ScheduleFactory(fee=Decimal("0"))
    book = reverse("billing:book", args=[schedule.pk])
    client.force_login(member.user)
    assert client.get(book).status_code == 200

    publish("sensitive", "2")
    forget_current_agreements()  # what saving it in the admin does
    response = client.get(book)
    assert response.status_code == 303
    assert response["Location"].startswith(reverse("members:consent_sensitive"))


@pytest.mark.django_db
def test_the_api_sign_up_needs_both_consents_too(client, levels, sms_log) -> None:
    publish_all()
    client.post(
        reverse("api:auth_signup_code"), {"phone": "13912340000"}, content_type="application/json"
    )
    body = {"name": "陈晓明", "phone": "13912340000", "code": sms_log.code(), "password": PASSWORD}
    refused = client.post(
        reverse("api:auth_signup"),
        {**body, "accept_terms": True, "accept_privacy": False},
        content_type="application/json",
    )
    assert refused.status_code == 400 and "accept_privacy" in refused.json()["error"]["fields"]
    assert not Member.objects.exists()
    created = client.post(
        reverse("api:auth_signup"),
        {**body, "accept_terms": True, "accept_privacy": True},
        content_type="application/json",
    )
    assert created.status_code == 201
    kinds = Consent.objects.filter(user__member__name="陈晓明").values_list("kind", flat=True)
    assert set(kinds) == {"terms", "privacy"}


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["legal", "consent"])
def test_in_english_a_chinese_document_says_it_binds_in_chinese_and_is_marked_chinese(
    client, member, page
) -> None:
    if page == "legal":
        publish("terms")
        url = reverse("members:legal", args=["terms"])
    else:
        publish("sensitive")
        client.force_login(member.user)
        url = reverse("members:consent_sensitive")
    pages = {}
    for language in ("en", "zh-hans"):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        response = client.get(url)
        assert response.status_code == 200
        pages[language] = response.content.decode()
    assert "published in Chinese only" in pages["en"]
    assert 'lang="zh-Hans">' in pages["en"] and "第一段" in pages["en"]
    assert "published in Chinese only" not in pages["zh-hans"]
    assert "仅以中文发布" not in pages["zh-hans"]


@pytest.mark.django_db
def test_a_document_written_in_english_is_not_said_to_be_chinese(client) -> None:
    agreement = publish("terms")
    agreement.title, agreement.body = "Terms", "First paragraph.\n\nSecond."
    agreement.save()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(reverse("members:legal", args=["terms"]))
    assert "published in Chinese only" not in page.content.decode()
    assert 'lang="zh-Hans"' not in page.content.decode()
