"""No phone or ID number reaches a log line in full."""

from __future__ import annotations

import io
import logging

import pytest

from medbook.logging import MaskPersonalData, mask_text

pytestmark = pytest.mark.core


def test_it_masks_numbers_in_messages_arguments_and_tracebacks() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(MaskPersonalData())
    log = logging.getLogger("test.masking")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        log.info("member %s with ID %s", "+8613812345678", "11010519491231002X")
        log.info("plain 13912345678 and 440106199001011234")
        try:
            raise ValueError("bad number 13700001111")
        except ValueError:
            log.exception("failed")
    finally:
        log.removeHandler(handler)
    text = stream.getvalue()
    for secret in (
        "13812345678",
        "11010519491231002X",
        "13912345678",
        "440106199001011234",
        "13700001111",
    ):
        assert secret not in text
    assert "138****5678" in text and "110105********002X" in text and "137****1111" in text


def test_order_numbers_and_times_are_left_alone() -> None:
    assert mask_text("order MB202611242008481828258520 at 2026-11-24") == (
        "order MB202611242008481828258520 at 2026-11-24"
    )


def test_the_configured_console_handler_masks(settings) -> None:
    handlers = settings.LOGGING["handlers"]["console"]
    assert "mask_personal_data" in handlers["filters"]


def test_the_development_servers_access_log_leaves_query_strings_out(caplog) -> None:
    caplog.set_level(logging.INFO, logger="django.server")
    line = "GET /staff/members/?q=110105199003071239&page=2 HTTP/1.1"

    logging.getLogger("django.server").info('"%s" %s %s', line, "200", "5120")

    [record] = [r for r in caplog.records if r.name == "django.server"]
    assert record.getMessage() == '"GET /staff/members/?… HTTP/1.1" 200 5120'
