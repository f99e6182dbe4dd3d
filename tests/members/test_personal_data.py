"""Phone and ID numbers: validation, masking, encryption at rest, blind-index look-ups, rotation."""

from __future__ import annotations

import base64
import datetime as dt
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError, connection, transaction

from medbook import crypto
from medbook.errors import Invalid
from medbook.personal_data import (
    mask_national_id,
    mask_phone,
    national_id_check_char,
    normalize_phone,
    validate_national_id,
)
from members import selectors, services
from members.exceptions import PhoneTaken
from members.models import Member
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.core

VALID_ID = "11010519491231002X"
BAD_DATE_ID = "11010519491331002" + national_id_check_char("11010519491331002")
KEY_A = base64.b64encode(b"a" * 32).decode()
KEY_B = base64.b64encode(b"b" * 32).decode()


@pytest.mark.parametrize(
    "raw", ["13812345678", "138 1234 5678", "+86 138-1234-5678", "008613812345678"]
)
def test_it_normalises_chinese_mobiles_to_e164(raw) -> None:
    assert normalize_phone(raw) == "+8613812345678"


@pytest.mark.parametrize("raw", ["", "12345", "1381234567", "23812345678", "abc"])
def test_it_rejects_numbers_that_are_not_real(raw) -> None:
    with pytest.raises(ValidationError):
        normalize_phone(raw)


def test_it_masks_phones_and_ids() -> None:
    assert mask_phone("+8613812341234") == "138****1234"
    assert mask_phone("") == ""
    assert mask_national_id(VALID_ID) == "110105********002X"


def test_it_accepts_a_valid_national_id_and_uppercases_x() -> None:
    assert validate_national_id(VALID_ID.lower()) == VALID_ID
    assert national_id_check_char(VALID_ID[:17]) == "X"


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("110105194912310021", "校验码"),
        (BAD_DATE_ID, "出生日期"),
        ("1101051949123100", "18 位"),
        ("11010519491231002Y", "18 位"),
    ],
)
def test_it_rejects_invalid_national_ids_with_a_reason(raw, why) -> None:
    with pytest.raises(ValidationError, match=why):
        validate_national_id(raw)


def test_encryption_round_trips_and_is_randomised() -> None:
    first = crypto.encrypt("13812345678", purpose="member.phone")
    second = crypto.encrypt("13812345678", purpose="member.phone")

    assert first != second
    assert "13812345678" not in first
    assert crypto.decrypt(first, purpose="member.phone") == "13812345678"


def test_a_ciphertext_moved_to_another_column_does_not_decrypt() -> None:
    token = crypto.encrypt("13812345678", purpose="member.phone")

    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token, purpose="member.national_id")


def test_a_tampered_ciphertext_does_not_decrypt() -> None:
    token = crypto.encrypt("13812345678", purpose="member.phone")
    head, body = token.rsplit("$", 1)
    flipped = body[:-4] + ("AAAA" if body[-4:] != "AAAA" else "BBBB")

    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(f"{head}${flipped}", purpose="member.phone")


@pytest.mark.parametrize(
    "spec", ["", "nokey", "1:notbase64!", "1:" + base64.b64encode(b"x").decode()]
)
def test_bad_key_configuration_is_refused_clearly(spec) -> None:
    with pytest.raises(ImproperlyConfigured):
        crypto.parse_keyring(spec)


@pytest.mark.django_db
def test_no_plaintext_phone_or_id_is_stored(levels) -> None:
    member = MemberFactory(phone="+8613912345678", national_id=VALID_ID)

    with connection.cursor() as cursor:
        cursor.execute(
            "select phone, national_id, phone_index from members_member where id = %s",
            [member.pk],
        )
        phone, national_id, phone_index = cursor.fetchone()
        cursor.execute(
            "select phone, national_id from members_historicalmember where id = %s", [member.pk]
        )
        history_rows = cursor.fetchall()

    for raw in [phone, national_id, phone_index, *[v for row in history_rows for v in row]]:
        assert "13912345678" not in raw
        assert "1949123100" not in raw
    assert phone.startswith("v1$t1$")
    assert Member.objects.get(pk=member.pk).phone == "+8613912345678"


@pytest.mark.django_db
def test_members_are_found_by_exact_phone_in_any_spelling(levels) -> None:
    member = MemberFactory(phone="+8613912345678")
    MemberFactory(phone="+8613912345679")

    assert selectors.member_by_phone("139 1234 5678") == member
    assert selectors.member_by_phone("13912345670") is None
    assert selectors.member_by_phone("not a phone") is None


@pytest.mark.django_db
def test_a_phone_number_is_unique_in_the_database(levels) -> None:
    MemberFactory(phone="+8613912345678")

    with pytest.raises(IntegrityError), transaction.atomic():
        MemberFactory(phone="+8613912345678")


@pytest.mark.django_db
def test_old_rows_stay_readable_after_a_new_key_is_added(levels, settings) -> None:
    settings.FIELD_ENCRYPTION_KEYS = f"a:{KEY_A}"
    old = MemberFactory(phone="+8613912345678")

    settings.FIELD_ENCRYPTION_KEYS = f"b:{KEY_B},a:{KEY_A}"
    new = MemberFactory(phone="+8613912345679")

    with connection.cursor() as cursor:
        cursor.execute("select id, phone from members_member order by id")
        key_ids = {pk: crypto.key_id_of(token) for pk, token in cursor.fetchall()}
    assert key_ids == {old.pk: "a", new.pk: "b"}
    assert Member.objects.get(pk=old.pk).phone == "+8613912345678"
    assert selectors.member_by_phone("13912345678") == old
    assert Member.objects.get(pk=new.pk).phone == "+8613912345679"


@pytest.mark.django_db
def test_a_row_whose_key_was_removed_fails_loudly(levels, settings) -> None:
    settings.FIELD_ENCRYPTION_KEYS = f"a:{KEY_A}"
    member = MemberFactory()
    settings.FIELD_ENCRYPTION_KEYS = f"b:{KEY_B}"

    with pytest.raises(crypto.DecryptionError, match="'a' is not configured"):
        Member.objects.get(pk=member.pk)


@pytest.mark.django_db
def test_register_member_validates_and_normalises(levels) -> None:
    member = services.register_member(
        name=" 王五 ", phone="139-1234-5678", password="s3cret-pass", national_id=VALID_ID.lower()
    )

    assert member.name == "王五"
    assert member.phone == "+8613912345678"
    assert member.national_id == VALID_ID
    assert member.level == levels["普通"]
    assert str(member) == "王五 (139****5678)"
    assert member.user.check_password("s3cret-pass")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "", "phone": "13912345678"}, "name"),
        ({"name": "王五", "phone": "12345"}, None),
        ({"name": "王五", "phone": "13912345678", "national_id": "110105194912310021"}, None),
    ],
)
def test_register_member_rejects_bad_input_and_writes_nothing(levels, kwargs, field) -> None:
    with pytest.raises(Invalid) as refused:
        services.register_member(**kwargs)
    assert refused.value.field == (field or refused.value.field)
    assert Member.objects.count() == 0


@pytest.mark.django_db
def test_register_member_refuses_a_registered_phone(levels) -> None:
    services.register_member(name="王五", phone="13912345678")

    with pytest.raises(PhoneTaken, match="已注册") as refused:
        services.register_member(name="赵六", phone="+86 139 1234 5678")
    assert (refused.value.code, refused.value.field) == ("phone_taken", "phone")
    assert Member.objects.count() == 1


def test_an_id_is_judged_by_the_clinics_date_not_the_servers() -> None:
    """At 00:30 in the clinic (still the day before on a UTC server) a baby born that day
    already has a valid ID; one born the next day does not yet."""
    clinic_midnight = dt.datetime(2030, 1, 1, 0, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    born_today = "11010520300101002"
    born_tomorrow = "11010520300102002"
    with mock.patch("django.utils.timezone.now", return_value=clinic_midnight):
        assert validate_national_id(born_today + national_id_check_char(born_today))
        with pytest.raises(ValidationError, match=r"date of birth|出生日期"):
            validate_national_id(born_tomorrow + national_id_check_char(born_tomorrow))
