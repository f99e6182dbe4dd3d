"""Rotating the field-encryption key: every row readable before, during and after."""

from __future__ import annotations

import base64
import io
import os

import pytest
from django.core.management import call_command
from django.db import connection

from medbook import crypto
from members.models import Member
from members.selectors import member_by_phone
from tests.members.factories import MemberFactory

pytestmark = [pytest.mark.core, pytest.mark.django_db]

OLD = "t1:VFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFQ="  # the tests' configured key


def new_key() -> str:
    return "k2:" + base64.b64encode(os.urandom(32)).decode()


def raw_values() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT phone FROM members_member "
            "UNION ALL SELECT national_id FROM members_member WHERE national_id <> ''"
        )
        values = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT phone FROM members_historicalmember")
        return values + [row[0] for row in cursor.fetchall()]


def test_rotation_re_encrypts_every_row_and_history_to_the_newest_key(levels, settings) -> None:
    members = [MemberFactory(national_id="11010519491231002X" if n == 0 else "") for n in range(5)]
    phones = {m.pk: m.phone for m in members}
    assert {crypto.key_id_of(v) for v in raw_values()} == {"t1"}

    settings.FIELD_ENCRYPTION_KEYS = f"{new_key()},{OLD}"
    # Mixed: old rows still read, new writes use the new key.
    newcomer = MemberFactory()
    assert {m.pk: m.phone for m in Member.objects.filter(pk__in=phones)} == phones
    assert {crypto.key_id_of(v) for v in raw_values()} == {"t1", "k2"}

    out = io.StringIO()
    call_command("rotate_encryption_keys", batch_size=2, stdout=out)

    assert {crypto.key_id_of(v) for v in raw_values()} == {"k2"}
    assert "members_historicalmember.phone" in out.getvalue()
    settings.FIELD_ENCRYPTION_KEYS = settings.FIELD_ENCRYPTION_KEYS.split(",")[0]  # old key gone
    assert {m.pk: m.phone for m in Member.objects.filter(pk__in=phones)} == phones
    assert Member.objects.get(pk=members[0].pk).national_id == "11010519491231002X"
    assert member_by_phone(newcomer.phone) == newcomer  # the blind index has its own key

    again = io.StringIO()
    call_command("rotate_encryption_keys", stdout=again)
    assert "Done: 0 values" in again.getvalue()
