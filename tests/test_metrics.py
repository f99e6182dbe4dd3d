"""/metrics: the Prometheus scrape behind a bearer token, and what is counted where."""

from __future__ import annotations

import pytest
from django.urls import reverse
from prometheus_client import REGISTRY

from appointments.choices import Channel
from appointments.exceptions import SoldOut
from billing.services import place_booking
from medbook import metrics, outbox
from medbook.models import JobHeartbeat
from tests.appointments.factories import ScheduleFactory
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db

TOKEN = "scrape-7c1d"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(client, token: str | None = TOKEN, **extra):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.get("/metrics", HTTP_HOST="10.0.0.9", **headers, **extra)


@pytest.fixture
def token(settings):
    settings.MEDBOOK_METRICS_TOKEN = TOKEN


def test_without_a_configured_token_there_is_no_metrics_page(client, settings) -> None:
    settings.MEDBOOK_METRICS_TOKEN = ""
    assert scrape(client).status_code == 404
    assert scrape(client, token="").status_code == 404


@pytest.mark.parametrize("given", [None, "wrong", TOKEN + "x"])
def test_a_scrape_without_the_token_finds_nothing(client, token, given, member) -> None:
    client.force_login(member.user)  # a login is no key either
    response = scrape(client, token=given)
    assert response.status_code == 404
    assert b"medbook_" not in response.content


def test_the_scrape_with_the_token(client, token) -> None:
    response = scrape(client)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    for name in (
        "medbook_http_request_duration_seconds",
        "medbook_outbox_unsent",
        "medbook_outbox_oldest_unsent_seconds",
    ):
        assert name in body


def test_requests_are_timed_and_their_statements_counted_by_route(client) -> None:
    labels = {"view": "appointments:home", "method": "GET", "status": "2xx"}
    before = sample("medbook_http_request_duration_seconds_count", **labels)
    queries = sample("medbook_db_queries_per_request_sum", view="appointments:home")
    assert client.get(reverse("appointments:home")).status_code == 200
    assert sample("medbook_http_request_duration_seconds_count", **labels) == before + 1
    assert sample("medbook_db_queries_per_request_sum", view="appointments:home") > queries


def test_bookings_are_counted_by_outcome(levels) -> None:
    schedule = ScheduleFactory(capacity=1)
    won = sample("medbook_bookings_total", outcome="won")
    sold_out = sample("medbook_bookings_total", outcome="sold_out")
    place_booking(member=MemberFactory(), schedule=schedule, channel=Channel.WEB)
    with pytest.raises(SoldOut):
        place_booking(member=MemberFactory(), schedule=schedule, channel=Channel.WEB)
    assert sample("medbook_bookings_total", outcome="won") == won + 1
    assert sample("medbook_bookings_total", outcome="sold_out") == sold_out + 1


def test_a_periodic_jobs_success_is_kept_and_scraped(client, token) -> None:
    from medbook.tasks import relay_outbox

    before = sample("medbook_celery_tasks_total", task=relay_outbox.name, outcome="succeeded")
    relay_outbox.apply()
    assert (
        sample("medbook_celery_tasks_total", task=relay_outbox.name, outcome="succeeded")
        == before + 1
    )
    beat = JobHeartbeat.objects.get(task=relay_outbox.name)
    assert beat.last_success_at is not None and beat.last_failure_at is None
    body = scrape(client).content.decode()
    assert f'medbook_job_last_success_timestamp_seconds{{task="{relay_outbox.name}"}}' in body


def test_a_task_that_is_no_periodic_job_leaves_no_heartbeat() -> None:
    metrics.task_succeeded(sender=type("T", (), {"name": "billing.tasks.notify_payment"})())
    assert not JobHeartbeat.objects.exists()


def test_the_outbox_backlog_is_scraped(client, token) -> None:
    outbox.enqueue("medbook.tasks.relay_outbox")  # not handed over: no commit in this test
    body = scrape(client).content.decode()
    assert "medbook_outbox_unsent 1.0" in body


def test_the_queue_lag_is_measured_from_the_publishers_stamp() -> None:
    headers: dict = {}
    metrics.stamp_publication(headers=headers)
    task = type("T", (), {"name": "lag.test", "request": type("R", (), {"headers": headers})()})()
    metrics.task_started(task=task)
    assert sample("medbook_celery_queue_lag_seconds_count", task="lag.test") == 1


def test_json_log_lines_carry_the_request_and_no_personal_data(client, member, caplog) -> None:
    import json as _json
    import logging

    from medbook.error_pages import RequestIdFilter
    from medbook.logging import JsonFormatter, MaskPersonalData

    caplog.set_level(logging.INFO, logger="medbook.access")
    client.force_login(member.user)
    client.get(reverse("appointments:home") + "?q=13812345678")
    record = next(r for r in caplog.records if r.name == "medbook.access")
    RequestIdFilter().filter(record)
    assert record.path == "/" and record.status == 200 and record.user_id == member.user.pk
    assert record.view == "appointments:home" and record.duration_ms > 0
    line = _json.loads(JsonFormatter().format(record))
    assert {"time", "level", "logger", "message", "request_id", "view", "status"} <= set(line)
    assert "13812345678" not in _json.dumps(line)  # the query string never gets in
    leaky = logging.LogRecord("x", logging.WARNING, "", 0, "member 13812345678 late", (), None)
    MaskPersonalData().filter(leaky)
    assert "13812345678" not in JsonFormatter().format(leaky)
