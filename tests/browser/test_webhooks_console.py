"""The webhooks pages of the console in Chromium, on a phone and a desktop: a clinic admin adds
a partner system, is shown its secret once, and reads the deliveries with their attempts.
Screenshots: test-results/screenshots/webhooks-*.png."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from medbook.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from medbook.roles import CLINIC_ADMIN
from medbook.webhooks.delivery import deliver
from tests.browser.conftest import DESKTOP, PHONE, screenshot
from tests.browser.test_staff_journeys import log_in, person
from tests.webhooks.receiver import reference_receiver

pytestmark = pytest.mark.django_db(transaction=True)


WIDEST = """[...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > 376 && !e.closest('header, nav'))
  .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))
  .slice(0, 8)"""


def fits(page, viewport: dict) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


def test_an_admin_adds_a_partner_system_and_reads_its_deliveries(page, settings) -> None:
    settings.MEDBOOK_WEBHOOK_ALLOW_HOSTS = ["127.0.0.1"]
    person("hookadmin", CLINIC_ADMIN)
    log_in(page, "hookadmin")
    with reference_receiver() as receiver:
        page.goto(page.base_url + "/staff/webhooks/")
        assert fits(page, PHONE)
        page.get_by_role("link", name="新建数据推送").click()
        page.get_by_label("地址").fill(receiver.url)
        page.get_by_label("说明").fill("医院信息系统（HIS）")
        page.get_by_label("appointment.booked — 有新预约").check()
        page.get_by_label("appointment.cancelled — 预约已取消").check()
        page.get_by_role("button", name="保存").click()
        page.wait_for_selector("[data-secret]")
        secret = page.locator("[data-secret]").input_value()
        assert secret.startswith("whsec_")
        assert fits(page, PHONE)
        screenshot(page, "webhooks-01-secret-shown-once")

        subscription = WebhookSubscription.objects.get()
        receiver.secret = secret
        receiver.answers = [503]
        now = timezone.now()
        event = WebhookEvent.objects.create(
            id=uuid.uuid4(), type="appointment.booked", payload={"appointment": {"id": 7}}
        )
        delivery = WebhookDelivery.objects.create(
            event=event, subscription=subscription, next_attempt_at=now, give_up_at=now
        )
        deliver(delivery_id=delivery.pk, now=now)

        page.get_by_role("link", name="我已保存").click()
        page.wait_for_url(f"**/staff/webhooks/{subscription.pk}/")
        assert secret not in page.content()
        page.locator("summary").first.click()
        assert "HTTP 503" in page.content()
        screenshot(page, "webhooks-02-deliveries-phone")
        assert fits(page, PHONE), page.evaluate(WIDEST)
        page.get_by_role("button", name="重新发送").click()
        page.wait_for_url(f"**/staff/webhooks/{subscription.pk}/")
        assert "正在重新发送该事件。" in page.content()
        page.set_viewport_size(DESKTOP)
        page.goto(page.base_url + "/staff/webhooks/")
        assert "医院信息系统（HIS）" in page.content()
        screenshot(page, "webhooks-03-list-desktop")
        page.goto(page.base_url + f"/staff/webhooks/{subscription.pk}/")
        screenshot(page, "webhooks-04-deliveries-desktop")
    assert [got["headers"]["MedBook-Event-Id"] for got in receiver.received] == [str(event.id)]
