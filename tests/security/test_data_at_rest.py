"""After a full journey, neither a dump of the database nor the logs hold a phone or ID number
or a visit record's text in plain text; and a member cannot set what only staff may (level,
points, status)."""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import subprocess
import zlib
from decimal import Decimal

import pytest
from django.contrib.sessions.models import Session
from django.core import signing
from django.db import connection
from django.urls import reverse

from billing import services
from billing.gateways import sandbox
from billing.models import Refund
from medbook.webhooks import EVENTS
from medbook.webhooks.subscriptions import create_subscription
from members.models import IdType, Member, Relation
from members.patients import add_patient
from members.services import register_member
from records.services import RecordText, amend_record
from tests.appointments.factories import ScheduleFactory
from tests.members.factories import resident_id
from tests.records.factories import written

PASSWORD = "Kq7!medbook-2026"
PHONE = "13912345678"
ID_NUMBER = "11010519491231002X"
PARENT_ID = resident_id("19560712", "031")
GUARDIAN_ID = resident_id("19880215", "124", region="310104")
# A visit record's texts: chief complaint, advice, two prescriptions, an amendment's reason.
RECORD_TEXT = (
    "右膝关节疼痛伴晨僵三月余",
    "避免爬楼梯及久蹲",
    "塞来昔布胶囊 200mg 每日一次",
    "氨基葡萄糖片 2片 每日三次",
    "补充处方氨基葡萄糖",
)


def _dump() -> str:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        pytest.fail("pg_dump is needed: apt-get install postgresql-client")
    settings = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": settings.get("PASSWORD") or ""}
    result = subprocess.run(
        [
            pg_dump,
            "--data-only",
            "-h",
            settings["HOST"] or "127.0.0.1",
            "-p",
            str(settings["PORT"] or 5432),
            "-U",
            settings["USER"] or "postgres",
            settings["NAME"],
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return result.stdout


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_dump_and_the_logs_of_a_full_journey_hold_no_plaintext_numbers(
    client, levels, sms_log, caplog, clinic_admin, doctor_user, settings
) -> None:
    caplog.set_level(logging.DEBUG)
    # Sign up with the texted code, trying to give oneself a level and points on the way.
    client.post(
        reverse("account_signup"),
        {
            "name": "陈晓明",
            "phone": PHONE,
            "password1": PASSWORD,
            "password2": PASSWORD,
            "level": levels["钻石"].pk,
            "points_balance": 99999,
            "phone_verified": "on",
            "accept_terms": "on",
            "accept_privacy": "on",
        },
    )
    member = Member.objects.get(name="陈晓明")
    assert (member.level, member.points_balance, member.phone_verified) == (
        levels["普通"],
        0,
        False,
    )
    # The session holds the number being verified: sealed, not base64 of readable JSON.
    sessions = list(Session.objects.all())
    assert sessions
    for session in sessions:
        payload = session.session_data.split(":")[0]
        raw = signing.b64_decode(payload.lstrip(".").encode())
        if payload.startswith("."):
            raw = zlib.decompress(raw)
        assert PHONE.encode() not in raw
    client.post(reverse("account_verify_phone"), {"code": sms_log.code()})

    # A partner system subscribes to every event: the events' payloads are in the dump too.
    # (Its address is a closed local port: the deliveries go nowhere.)
    settings.MEDBOOK_WEBHOOK_ALLOW_HOSTS = ["127.0.0.1"]
    _hook, hook_secret = create_subscription(
        url="http://127.0.0.1:9/hook", events=list(EVENTS), by=clinic_admin
    )

    # Book, pay, cancel: an order, a payment, a refund, messages.
    schedule = ScheduleFactory(fee=Decimal("80.00"))
    client.post(reverse("billing:book", args=[schedule.pk]), {"fee": "0", "status": "confirmed"})
    appointment = member.appointments.get()
    assert appointment.fee == Decimal("80.00") and appointment.status == "pending_payment"
    trade = sandbox.pay(order=appointment.order)
    services.confirm_payment(
        out_trade_no=trade.out_trade_no, gateway_trade_no=trade.trade_no, amount=trade.amount
    )
    client.post(reverse("billing:appointment_cancel", args=[appointment.pk]))
    for refund in Refund.objects.filter(status="requested"):
        services.carry_out_refund(refund_id=refund.pk)

    # A patient registered at the desk with an ID number; staff look it up unmasked (logged).
    walk_in = register_member(name="王芳", phone="13800138000", national_id=ID_NUMBER)
    # Her patients (就诊人): a parent with an ID card, a child registered with her as guardian,
    # and the parent's phone.
    add_patient(
        member=walk_in,
        name="王建国",
        relation=Relation.PARENT,
        id_number=PARENT_ID,
        phone="13700137000",
    )
    add_patient(
        member=walk_in,
        name="王小宝",
        relation=Relation.CHILD,
        id_type=IdType.NONE,
        gender="male",
        birth_date=dt.date(2022, 3, 1),
        guardian_name="王芳",
        guardian_id_number=GUARDIAN_ID,
    )
    client.force_login(clinic_admin)
    client.get(client.post(reverse("staff:members"), {"q": "13800138000"})["Location"])
    client.post(
        reverse("staff:member", args=[walk_in.pk]), {"action": "unmask", "unmask-reason": "核对"}
    )

    # The doctor writes her parent's visit record and amends it; the desk reads it.
    record = written(
        walk_in,
        doctor_user,
        RecordText(
            chief_complaint=RECORD_TEXT[0],
            diagnosis_code="M17.9",
            advice=RECORD_TEXT[1],
            prescriptions=RECORD_TEXT[2],
        ),
        patient=walk_in.patients.get(relation=Relation.PARENT),
    )
    amend_record(
        record=record,
        text=RecordText(
            chief_complaint=RECORD_TEXT[0],
            diagnosis_code="M17.9",
            advice=RECORD_TEXT[1],
            prescriptions=RECORD_TEXT[2] + "\n" + RECORD_TEXT[3],
        ),
        reason=RECORD_TEXT[4],
        by=doctor_user,
    )
    client.get(reverse("staff:record", args=[record.pk]))

    dump = _dump()
    assert "陈晓明" in dump  # the dump is real
    assert "refund.succeeded" in dump and "139****5678" in dump  # the events, masked
    secrets = (PHONE, "13800138000", ID_NUMBER, "110105194912310", hook_secret)
    for secret in (*secrets, PARENT_ID, GUARDIAN_ID, "13700137000", *RECORD_TEXT, "M17.9"):
        assert secret not in dump, f"{secret} is stored in plain text"
        assert secret not in caplog.text, f"{secret} reached the logs"
