"""The queued booking (排队): an attempt the release gate lets through is booked by a worker.

Off by default (``MEDBOOK_BOOKING_QUEUE``; bench/README.md has the measurements behind that).
With it on, a booking attempt that the release gate lets through (``Verdict.GO``: one unit of
the session's stock held for it) is not booked in the web request:

1. :func:`enqueue` writes "queued" for (session, member) in Redis and publishes one job with the
   session and the member on the booking queue (``MEDBOOK_BOOKING_QUEUE_NAME``), and the member
   gets a small "排队中 / In the queue" page at once (:func:`queued_page`);
2. a worker consuming that queue in order runs :func:`book`: the booking through
   ``billing.services.place_booking`` exactly as the booking view would, the gate settled with
   the database's decision, and the result written where the page reads it;
3. the page asks :func:`status` (the view ``booking_queue_status``: Redis only, no SQL while
   the attempt is pending) every :data:`POLL_SECONDS` and goes to the cashier once booked, says
   the refusal in words, or, when nothing came back within the gate's ``TRYING_SECONDS``, what
   to do.

The queue's consumer: ``celery -A medbook worker -Q <MEDBOOK_BOOKING_QUEUE_NAME>
--pool=prefork --concurrency=1`` (one job at a time, in order). Not ``--pool=solo``: a solo
worker whose job publishes (the booking's outbox jobs) left the next messages waiting for up to
~10 s in the benchmark.

When the broker refuses the job (or was failing moments ago: the outbox's breaker), nothing is
queued and the attempt goes on to the booking view, as without the queue. A job delivered twice
(its worker died before acknowledging it) finds the result written, or the booking made
(``AlreadyBooked``), and books nothing twice.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from appointments import exceptions as errors
from appointments import gate
from appointments import selectors as appointment_selectors
from appointments.choices import Channel
from medbook import outbox
from members import selectors as member_selectors

from . import selectors, services

__all__ = [
    "POLL_SECONDS",
    "TASK",
    "Queued",
    "book",
    "enqueue",
    "queued_page",
    "status",
    "status_page",
]

logger = logging.getLogger(__name__)

TASK = "billing.tasks.book_queued"
POLL_SECONDS = 1  # how often the page asks (htmx; the refresh without JavaScript)
RESULT_SECONDS = 3600  # how long a result stays readable

QUEUED, BOOKED, REFUSED = "queued", "booked", "refused"


@dataclass(frozen=True)
class Queued:
    """Where a queued attempt stands: ``queued`` (since ``since``, a Unix time), ``booked``
    (``next``: the pay page, or the appointment's page of a free one) or ``refused``
    (``message``: why, in the member's language)."""

    state: str
    since: float
    next: str = ""
    message: str = ""

    @property
    def late(self) -> bool:
        """Still queued after the gate's trying mark has run out: nothing will come back."""
        return self.state == QUEUED and time.time() - self.since > gate.TRYING_SECONDS


def _key(schedule_id: int, user_id: int) -> str:
    return f"bookq:{schedule_id}:{user_id}"


def _redis() -> Any:
    return caches["redis"]


def _write(schedule_id: int, user_id: int, queued: Queued) -> None:
    _redis().set(_key(schedule_id, user_id), asdict(queued), timeout=RESULT_SECONDS)


def status(*, schedule_id: int, user_id: int) -> Queued | None:
    """The member's queued attempt on a session (None: none, or Redis cannot say)."""
    if "redis" not in settings.CACHES:
        return None
    try:
        found = _redis().get(_key(schedule_id, user_id))
    except Exception as exc:  # Redis down: the page says what to do instead
        logger.warning("The booking queue could not read a result (%s)", exc)
        return None
    return Queued(**found) if isinstance(found, dict) else None


def enqueue(*, schedule_id: int, user_id: int, language: str) -> bool:
    """Queue an attempt the gate let through. False when it is not queued (the option is off,
    or Redis or the broker failed): the attempt then goes on to the booking view."""
    if not settings.MEDBOOK_BOOKING_QUEUE or not outbox.broker.allows():
        return False
    try:
        _write(schedule_id, user_id, Queued(state=QUEUED, since=time.time()))
    except Exception as exc:
        logger.warning("The booking queue could not write to Redis (%s): booking directly", exc)
        return False
    from medbook.celery import app

    try:
        app.send_task(
            TASK,
            args=[schedule_id, user_id, language],
            queue=settings.MEDBOOK_BOOKING_QUEUE_NAME,
            retry=False,
        )
    except Exception as exc:  # any broker or connection error: book in the request instead
        outbox.broker.failed(exc)
        with contextlib.suppress(Exception):  # the direct booking decides anyway
            _redis().delete(_key(schedule_id, user_id))
        return False
    outbox.broker.succeeded()
    return True


def book(*, schedule_id: int, user_id: int, now: dt.datetime | None = None) -> Queued:
    """The worker's half: book a queued attempt as the booking view would (same service, same
    outcomes), settle the gate, and write the result for the member's page."""
    current = status(schedule_id=schedule_id, user_id=user_id)
    if current is not None and current.state != QUEUED:
        return current  # delivered twice: decided already
    now = now or timezone.now()
    since = current.since if current is not None else time.time()
    member = member_selectors.member_for_user(user_id=user_id)
    schedule = appointment_selectors.bookable_schedule(pk=schedule_id)
    outcome: dict[str, Any] = {}
    try:
        if member is None or schedule is None:
            raise errors.AppointmentError()  # no longer a member, or no longer bookable
        appointment = services.place_booking(
            member=member, schedule=schedule, channel=Channel.WEB, now=now
        )
    except errors.AlreadyBooked as exc:
        existing = appointment_selectors.active_appointment_of(member=member, schedule=schedule)
        if existing is None:
            result = Queued(state=REFUSED, since=since, message=exc.message)
        else:
            outcome = {"booked_id": existing.pk}
            result = Queued(state=BOOKED, since=since, next=_next(existing, now))
    except errors.SoldOut as exc:
        outcome = {"sold_out": True}
        result = Queued(state=REFUSED, since=since, message=exc.message)
    except errors.AppointmentError as exc:
        result = Queued(state=REFUSED, since=since, message=exc.message)
    else:
        order = selectors.payable_order(appointment, now)
        outcome = {"booked_id": appointment.pk, "hold_until": order and order.expires_at}
        result = Queued(state=BOOKED, since=since, next=_next(appointment, now))
    finally:
        gate.settle(schedule_id=schedule_id, user_id=user_id, **outcome)
    try:
        _write(schedule_id, user_id, result)
    except Exception as exc:  # the booking stands; the page says what to do after a while
        logger.warning("The booking queue could not write a result to Redis (%s)", exc)
    return result


def _next(appointment: Any, now: dt.datetime) -> str:
    if selectors.payable_order(appointment, now) is not None:
        return reverse("billing:appointment_pay", args=[appointment.pk])
    return reverse("billing:appointment_detail", args=[appointment.pk])


def _context(schedule_id: int, queued: Queued) -> dict[str, Any]:
    return {
        "queued": queued,
        "pending": queued.state == QUEUED and not queued.late,
        "late": queued.late,
        "status_url": reverse("billing:book_queue_status", args=[schedule_id]),
        "back": reverse("billing:book", args=[schedule_id]),
        "poll_seconds": POLL_SECONDS,
        "trying_seconds": gate.TRYING_SECONDS,
    }


def queued_page(*, schedule_id: int) -> str:
    """The answer to a queued attempt: rendered without the request (no context processor, no
    query), like the gate's "fully booked" page."""
    queued = Queued(state=QUEUED, since=time.time())
    return render_to_string("billing/book_queued.html", _context(schedule_id, queued))


def status_page(*, schedule_id: int, queued: Queued, partial: bool) -> str:
    """The status page (or, for htmx, its part that replaces itself) of a queued attempt."""
    template = "billing/partials/_book_queued.html" if partial else "billing/book_queued.html"
    return render_to_string(template, _context(schedule_id, queued))


def current_language() -> str:
    return translation.get_language() or settings.LANGUAGE_CODE
