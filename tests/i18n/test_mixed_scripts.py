"""No page mixes languages: an English page shows no Chinese and a Chinese page no English
words, beyond a small allow-list (proper names without an English one, the language switch)."""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from appointments.models import Schedule
from appointments.services import join_waitlist
from medbook.clinic import CACHE_KEY
from medbook.models import ClinicProfile
from medbook.roles import DOCTOR
from members.models import Message
from tests.appointments.factories import DepartmentFactory, DoctorFactory, ScheduleFactory
from tests.billing.factories import book
from tests.conftest import staff_user
from tests.members.factories import MemberFactory
from tests.records.factories import written

HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
WORD = re.compile(r"[A-Za-z]{4,}")
# Chinese that English pages may show: the switch to Chinese, the people's own names (the
# member 张三 has no English name) and, in the console, the examples of a department's aliases
# (what patients type to search for it: "心内, 心内科").
HAN_ALLOWED = {"中文", "简体中文", "张三"}
# English words Chinese pages may show: the product's name, the switch to English, the
# doctor's own English name on their card.
WORDS_ALLOWED = {"MedBook", "English"}
TEXT = re.compile(r"<(script|style|svg)\b.*?</\1>|<[^>]+>", re.S)


def visible_text(page: str) -> str:
    return html.unescape(TEXT.sub(" ", page))


def bilingual_session() -> Schedule:
    """A paid session of a doctor whose department, specialties and room have English names."""
    department = DepartmentFactory(
        code="cardiology",
        name="心血管内科",
        name_en="Cardiology",
        location="门诊楼3层A区",
        location_en="Outpatient Building, 3F, Zone A",
    )
    doctor = DoctorFactory(
        name="王建国",
        name_en="Wang Jianguo",
        department=department,
        specialties="冠心病、高血压",
        specialties_en="Coronary heart disease, hypertension",
        introduction="主任医师，从事心血管内科临床工作26年。",
        introduction_en="Chief physician; 26 years in cardiology.",
    )
    return ScheduleFactory(
        doctor=doctor,
        room="3诊室",
        room_en="Room 3",
        fee=Decimal("50.00"),
        date=timezone.localdate() + dt.timedelta(days=2),
    )


@pytest.fixture
def clinic(member, levels):
    for level, english in zip(
        levels.values(), ["Standard", "Silver", "Gold", "Diamond"], strict=True
    ):
        level.name_en = english
        level.save(update_fields=["name_en"])
    schedule = bilingual_session()
    doctor, department = schedule.doctor, schedule.doctor.department
    appointment = book(member, schedule)
    # A session in 30-minute time slots (分时段): the doctor's page marks it, the confirm page
    # lists its slots, the ticket names its slot.
    split = ScheduleFactory(
        doctor=doctor,
        fee=Decimal("50.00"),
        date=timezone.localdate() + dt.timedelta(days=3),
        start_time=dt.time(8, 0),
        end_time=dt.time(10, 0),
        slot_minutes=30,
        capacity=4,
    )
    book(MemberFactory(level=levels["普通"]), split)
    member.level = levels["金卡"]  # room for a third upcoming appointment
    member.save(update_fields=["level"])
    in_slot = book(
        member,
        ScheduleFactory(
            doctor=doctor, date=timezone.localdate() + dt.timedelta(days=4), slot_minutes=30
        ),
    )
    # A sold-out session the member waits for (候补), a visit record by this doctor, the
    # clinic's details in both languages (every page's footer).
    full = ScheduleFactory(
        doctor=doctor,
        capacity=1,
        fee=Decimal("50.00"),
        date=timezone.localdate() + dt.timedelta(days=5),
    )
    book(MemberFactory(level=levels["普通"]), full)
    join_waitlist(member=member, schedule=full)
    doctor.user = staff_user("wang", DOCTOR)
    doctor.save(update_fields=["user"])
    written(member, doctor.user)
    ClinicProfile.objects.create(
        pk=1,
        name="康宁会员诊所",
        name_en="Kangning Clinic",
        address="上海市徐汇区宜山路 700 号",
        address_en="700 Yishan Road, Shanghai",
        phone="021-6000 1234",
        hours="周一至周日 08:00–17:30",
        hours_en="Daily 08:00–17:30",
    )
    cache.delete(CACHE_KEY)
    return {
        "doctor": doctor,
        "appointment": appointment,
        "department": department,
        "split": split,
        "in_slot": in_slot,
    }


def member_pages(clinic, member) -> list[str]:
    message = Message.objects.filter(member=member).first()
    return [
        reverse("appointments:home"),
        reverse("appointments:home") + "?department=cardiology",
        reverse("appointments:doctor_detail", args=[clinic["doctor"].pk]),
        reverse("billing:appointments"),
        reverse("billing:appointment_detail", args=[clinic["appointment"].pk]),
        reverse("billing:book", args=[clinic["split"].pk]),
        reverse("billing:appointment_detail", args=[clinic["in_slot"].pk]),
        reverse("members:messages"),
        reverse("members:message_detail", args=[message.pk]),
        reverse("members:membership"),
        reverse("appointments:waitlist"),
        reverse("records:list"),
    ]


def _in(client, language: str) -> None:
    client.post(reverse("set_language"), {"language": language, "next": "/"})


def _offending(client, paths: list[str], find: re.Pattern, allowed: set[str]) -> dict:
    found = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        bad = set(find.findall(visible_text(response.content.decode()))) - allowed
        if bad:
            found[path] = sorted(bad)
    return found


def test_member_pages_in_english_show_no_chinese(client, member, clinic) -> None:
    client.force_login(member.user)
    _in(client, "en")
    assert _offending(client, member_pages(clinic, member), HAN, HAN_ALLOWED) == {}


def test_member_pages_in_chinese_show_no_english_words(client, member, clinic) -> None:
    client.force_login(member.user)
    _in(client, "zh-hans")
    assert _offending(client, member_pages(clinic, member), WORD, WORDS_ALLOWED) == {}


STAFF_PAGES = ["staff:today", "staff:doctors", "staff:schedules", "staff:members"]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_staff_pages_speak_one_language(client, clinic_admin, member, clinic, language) -> None:
    client.force_login(clinic_admin)
    _in(client, language)
    paths = [reverse(name) for name in STAFF_PAGES]
    if language == "en":
        assert _offending(client, paths, HAN, HAN_ALLOWED | {"心内", "心内科"}) == {}
    else:
        assert _offending(client, paths, WORD, WORDS_ALLOWED) == {}


@pytest.mark.parametrize(
    "language, script", [("zh-hans", HAN), ("en", re.compile(r"^[^\u3400-\u9fff]+$"))]
)
def test_djangos_password_rules_speak_the_pages_language(language, script) -> None:
    """Django's own validation messages (password rules) come from its catalogue, translated."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError
    from django.utils import translation

    with translation.override(language):
        with pytest.raises(ValidationError) as refused:
            validate_password("1234")
        messages = [str(message) for message in refused.value.messages]
    assert len(messages) >= 2  # too short, entirely numeric (and too common)
    for message in messages:
        assert script.search(message), message


def test_allauths_messages_come_translated() -> None:
    """allauth's own refusals (wrong password, number taken …) are in its Chinese catalogue."""
    from allauth.account.adapter import DefaultAccountAdapter
    from django.utils import translation

    with translation.override("zh-hans"):
        untranslated = [
            key
            for key, message in DefaultAccountAdapter.error_messages.items()
            if not HAN.search(str(message))
        ]
    assert untranslated == []
