"""A member downloads their data: a ZIP with data.json and one CSV per section, holding their
own rows (profile, patients, appointments, visit records, orders, refunds, points, messages,
consents) and none of another member's; logged; a few a day."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from django.urls import reverse

from medbook.models import OperationLog
from tests.privacy.helpers import two_people


def _download(client) -> zipfile.ZipFile:
    response = client.post(reverse("privacy:export"))
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="medbook-data-')
    return zipfile.ZipFile(io.BytesIO(response.content))


@pytest.mark.django_db
def test_the_download_holds_the_members_rows_and_none_of_another_members(client, levels) -> None:
    a, b = two_people()
    client.force_login(a.member.user)
    assert client.get(reverse("privacy:export")).status_code == 200
    archive = _download(client)
    assert set(archive.namelist()) == {
        "data.json",
        *(
            f"{name}.csv"
            for name in [
                "profile",
                "patients",
                "appointments",
                "visit_records",
                "orders",
                "refunds",
                "points",
                "messages",
                "consents",
            ]
        ),
    }
    text = archive.read("data.json").decode()
    data = json.loads(text)

    assert data["profile"][0]["name"] == a.name
    assert data["profile"][0]["phone"] == "+86" + a.phone
    assert data["profile"][0]["national_id"] == a.national_id
    assert {p["name"] for p in data["patients"]} == {a.name, a.child_name, a.baby_name}
    assert a.child_id in {p["id_number"] for p in data["patients"]}
    assert [x["status"] for x in data["appointments"]] == ["cancelled"]
    assert [(o["amount"], o["status"]) for o in data["orders"]] == [("80.00", "refunded")]
    assert [(r["amount"], r["status"]) for r in data["refunds"]] == [("80.00", "succeeded")]
    assert 30 in [p["change"] for p in data["points"]]
    assert f"{a.name}的预约" in [m["subject"] for m in data["messages"]]
    assert {c["document"] for c in data["consents"]} == {"terms", "privacy", "sensitive"}

    for secret in (b.name, b.phone, b.national_id, b.child_name, b.child_id, b.baby_name):
        assert secret not in text, f"another member's {secret} is in the export"
    own_orders = {o["order_number"] for o in data["orders"]}
    assert all(o.out_trade_no not in text for o in b.member.orders.all())
    assert own_orders == {o.out_trade_no for o in a.member.orders.all()}

    patients = list(csv.DictReader(io.StringIO(archive.read("patients.csv").decode("utf-8-sig"))))
    assert {row["name"] for row in patients} == {a.name, a.child_name, a.baby_name}

    row = OperationLog.objects.get(action="privacy.export")
    assert row.actor == a.member.user and row.target_id == str(a.member.pk)
    assert row.detail["patients"] == 3 and a.name not in row.target_label


@pytest.mark.django_db
def test_only_a_few_downloads_a_day(client, levels, settings) -> None:
    settings.MEDBOOK_DATA_EXPORTS_PER_DAY = 2
    a, _b = two_people()
    client.force_login(a.member.user)
    _download(client)
    _download(client)
    refused = client.post(reverse("privacy:export"))
    assert refused.status_code == 429
    assert OperationLog.objects.filter(action="privacy.export").count() == 2


@pytest.mark.django_db
def test_a_spreadsheet_cell_never_starts_a_formula(client, levels) -> None:
    a, _b = two_people()
    from members.services import send_message

    send_message(member=a.member, kind="booked", title="=HYPERLINK(1)", body="x")
    client.force_login(a.member.user)
    messages = _download(client).read("messages.csv").decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in messages
