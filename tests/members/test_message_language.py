"""Messages are a template and parameters, rendered in the reader's language when read."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from members import delivery, message_templates, services
from members.models import Message, MessageKind
from tests.appointments.factories import DepartmentFactory, DoctorFactory, ScheduleFactory
from tests.billing.factories import book


@pytest.fixture
def held(member) -> Message:
    """The "awaiting payment" message of a booking with 王医生 of 心内科 on 2030-03-05."""
    department = DepartmentFactory(name="心内科", name_en="Cardiology")
    doctor = DoctorFactory(name="王医生", name_en="Dr Wang", department=department)
    schedule = ScheduleFactory(doctor=doctor, date=dt.date(2030, 3, 5), fee=Decimal("50.00"))
    book(member, schedule)
    return Message.objects.get(member=member, kind=MessageKind.BOOKED)


def test_it_renders_a_message_in_the_readers_language(held) -> None:
    assert held.template == "booking.held"
    with translation.override("en"):
        title, body = held.rendered()
        assert title.startswith("Awaiting payment: pay by ")
        assert "Dr Wang (Cardiology) on March 5 at 08:00, number 1" in body
    with translation.override("zh-hans"):
        title, body = held.rendered()
        assert title.startswith("待支付")
        assert "心内科 王医生 3月5日 08:00 1号" in body
        assert "Dr Wang" not in body


def test_the_stored_text_is_the_clinics_default_language(held) -> None:
    with translation.override("en"):
        assert "王医生" in held.title + held.body


def test_a_plain_text_message_keeps_its_text_in_every_language(member) -> None:
    message = services.send_message(
        member=member, kind=MessageKind.POINTS, title="积分调整", body="余额 550 分。"
    )
    assert message.template == message_templates.LEGACY
    for language in ("en", "zh-hans"):
        with translation.override(language):
            assert message.rendered() == ("积分调整", "余额 550 分。")


def test_an_unknown_template_or_parameter_fails_when_sent(member) -> None:
    with pytest.raises(KeyError):
        services.send_message(member=member, kind=MessageKind.POINTS, template="no.such")
    with pytest.raises(KeyError):
        services.send_message(member=member, kind=MessageKind.POINTS, template="ban.lifted")
    assert not Message.objects.filter(member=member).exists()


def test_the_message_pages_and_the_api_speak_the_readers_language(client, member, held) -> None:
    client.force_login(member.user)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})

    page = client.get(reverse("members:message_detail", args=[held.pk])).content.decode()
    assert "Dr Wang (Cardiology) on March 5" in page
    listing = client.get(reverse("members:messages")).content.decode()
    assert "Awaiting payment" in listing

    api = client.get("/api/v1/messages/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert api.status_code in {200, 401, 403}  # the API takes a token; covered in tests/api


def test_switching_the_language_sets_the_members_language_for_texts(
    client, member, held, sms_log, settings
) -> None:
    settings.MEDBOOK_TEXT_MESSAGE_KINDS = ["booked"]
    client.force_login(member.user)
    assert member.language == "zh-hans"
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    member.refresh_from_db()
    assert member.language == "en"

    with translation.override("zh-hans"):  # the worker's own language does not matter
        delivery.deliver_message(message_id=held.pk)

    text = sms_log.messages()[0]
    assert "Awaiting payment" in text and "Dr Wang" in text


def test_an_unknown_language_changes_nothing(client, member) -> None:
    client.force_login(member.user)
    client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    member.refresh_from_db()
    assert member.language == "zh-hans"


def test_every_template_renders_in_every_language_with_its_senders_parameters() -> None:
    """Each template's placeholders are the ones its sender fills (here: generic values)."""
    sample = {
        "session": "S",
        "room": "R",
        "doctor": "D",
        "day": {"date": "2030-03-05"},
        "time": "08:00",
        "left": 1,
        "capacity": 2,
        "until": {"datetime": "2030-03-05T00:00:00+00:00"},
        "count": 3,
        "days": 90,
        "amount": "50.00",
        "level": "L",
        "before": "B",
        "points": 5,
        "reason": "x",
        "delta": 5,
        "number": 1,
        "note": "n",
        "balance": 9,
        "body": ["a", "b"],
        "old": "O",
        "new": "N",
        "visit": "V",
    }
    for key in message_templates.TEMPLATES:
        message_templates.check(key, sample)
