from __future__ import annotations

import itertools
from decimal import Decimal

import factory
from django.urls import reverse

from medbook.personal_data import national_id_check_char
from members.models import Member, MemberLevel, User
from members.patients import ensure_self_patient

# 166 is a prefix the demo seed never uses, so tests may seed and add members.
_phone_numbers = itertools.count(16600000000)


def next_phone() -> str:
    return f"+86{next(_phone_numbers)}"


class MemberLevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MemberLevel
        django_get_or_create = ("level",)

    level = factory.Sequence(lambda n: n + 10)
    name = factory.LazyAttribute(lambda o: f"Level {o.level}")
    min_points = 0
    booking_lead_hours = 0
    can_cancel_late = False
    discount_rate = Decimal("1.00")
    max_active_appointments = 3


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("correct horse battery")


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"会员{n}")
    phone = factory.LazyFunction(next_phone)
    phone_verified = True
    level = factory.LazyFunction(
        lambda: MemberLevel.objects.order_by("level").first() or MemberLevelFactory(level=1)
    )

    @factory.post_generation
    def holder(obj: Member, create: bool, extracted, **kwargs) -> None:
        """Every account is its holder's patient (本人), as sign-up makes it."""
        if create:
            ensure_self_patient(member=obj)


def resident_id(birth: str = "20180601", serial: str = "123", region: str = "110105") -> str:
    """A valid resident ID number (GB 11643) for ``birth`` (YYYYMMDD); an odd ``serial``'s
    last digit is a boy, even a girl."""
    first = f"{region}{birth}{serial}"
    return first + national_id_check_char(first)


PASSWORD = "Kq7!medbook-2026"  # one the sign-up form accepts


def sign_up(client, phone: str = "13912345678", name: str = "陈晓明"):
    """Post the sign-up form as a newcomer does, with ``PASSWORD``."""
    return client.post(
        reverse("account_signup"),
        {
            "name": name,
            "phone": phone,
            "password1": PASSWORD,
            "password2": PASSWORD,
            "accept_terms": "on",
            "accept_privacy": "on",
        },
    )


def staff(role: str, name: str) -> User:
    """A login in ``role``'s group for calling services directly: no console, so no second
    step set up."""
    from tests.conftest import staff_user  # the conftest imports this module

    return staff_user(name, role, mfa=False)
