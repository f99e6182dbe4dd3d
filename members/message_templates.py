"""In-app messages as a template key and parameters, rendered in the reader's language.

A message (``members.models.Message``) names a template of ``TEMPLATES`` and holds JSON
parameters; its title and body are rendered when they are read — on the message pages, by the
API, in the header — in the reader's language, and in the member's stored language when texted or
e-mailed. Messages written as plain text (``template == LEGACY``: the older rows, and callers
that still pass ``title``/``body``) render their stored text.

A parameter is one of:

- a string or a number, shown as it is (amounts, times, a reason staff typed);
- ``{"date": "2026-03-01"}`` — a day, formatted the language's way ("3月1日" / "March 1");
- ``{"datetime": "2026-03-01T08:00:00+00:00"}`` — a moment, in the clinic's zone;
- ``{"zh-hans": "心内科", "en": "Cardiology"}`` — a name in both languages (``localized``);
- ``{"snippet": "visit", "params": {…}}`` — a phrase of ``SNIPPETS`` with its own parameters;
- ``{"concat": [...]}`` — parameters run together; ``[...]`` — sentences, with a space between
  them in English and none in Chinese.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import formats, timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_noop as N_

LEGACY = "legacy"


@dataclass(frozen=True)
class MessageTemplate:
    """Title and body of a message, English source strings with named placeholders. A body
    of ``None`` is the parameter ``body`` (sentences put together by the sender)."""

    title: str
    body: str | None


TEMPLATES: dict[str, MessageTemplate] = {
    # appointments (appointments/notices.py)
    "appointment.reminder": MessageTemplate(
        N_("Reminder: your appointment is tomorrow"),
        N_(
            "Tomorrow: %(session)s, %(room)s. Please arrive 15 minutes early and check in at "
            "the front desk."
        ),
    ),
    "release.open": MessageTemplate(
        N_("Booking is open: %(doctor)s on %(day)s"),
        N_(
            "%(session)s opened for you at %(time)s, with %(left)d of %(capacity)d slots "
            "free. Book it on MedBook."
        ),
    ),
    "waitlist.offered": MessageTemplate(
        N_("Waitlist: a slot is yours until %(time)s"),
        N_(
            "A slot opened up: %(session)s. We hold it for you until %(time)s. Open My waitlist "
            "on MedBook to book it; after that it passes to the next member waiting."
        ),
    ),
    "waitlist.passed": MessageTemplate(
        N_("Waitlist offer passed on"),
        N_(
            "The slot held for you (%(session)s) was not booked in time and has passed to the "
            "next member waiting."
        ),
    ),
    "move.difference": MessageTemplate(
        N_("Pay the difference to reschedule"),
        N_(
            "To move your appointment with %(old)s to %(new)s, please pay the difference of "
            "¥%(amount)s before %(time)s. Until then your appointment stays as it is; if it is "
            "not paid, the new slot is released."
        ),
    ),
    "move.lapsed": MessageTemplate(
        N_("Reschedule not completed"),
        N_(
            "The difference for moving to %(session)s was not paid in time, so that slot was "
            "released. Your original appointment stays as it was."
        ),
    ),
    "release.full": MessageTemplate(
        N_("Booking is open: %(doctor)s on %(day)s"),
        N_("%(session)s opened for you at %(time)s, but all %(capacity)d slots are taken already."),
    ),
    "no_show.ban": MessageTemplate(
        N_("Online booking paused until %(until)s"),
        N_(
            "You missed %(count)d appointments within %(days)d days, so online booking is paused "
            "until %(until)s. Your existing appointments stay. If this is a mistake, please "
            "contact the front desk."
        ),
    ),
    # billing (billing/notices.py)
    "booking.confirmed": MessageTemplate(
        N_("Appointment booked"),
        N_("Your appointment with %(session)s is confirmed."),
    ),
    "booking.held": MessageTemplate(
        N_("Awaiting payment: pay by %(time)s"),
        N_(
            "We are holding %(session)s for you. Please pay ¥%(amount)s before %(time)s, "
            "otherwise the slot is released."
        ),
    ),
    "booking.paid": MessageTemplate(
        N_("Payment received, appointment confirmed"),
        N_("We received ¥%(amount)s. Your appointment with %(session)s is confirmed."),
    ),
    "booking.expired": MessageTemplate(
        N_("Booking released: not paid in time"),
        N_(
            "Your booking of %(session)s was not paid in time, so the slot was released. "
            "You can book again if slots are left."
        ),
    ),
    "booking.cancelled": MessageTemplate(N_("Appointment cancelled"), None),
    "refund.online": MessageTemplate(
        N_("Refund completed: ¥%(amount)s"),
        N_(
            "¥%(amount)s for your appointment with %(session)s has been refunded to the "
            "account you paid from. Banks may take a few days to show it."
        ),
    ),
    "refund.counter": MessageTemplate(
        N_("Refund completed: ¥%(amount)s"),
        N_(
            "¥%(amount)s for your appointment with %(session)s is refunded in cash at the "
            "front desk."
        ),
    ),
    "session.suspended": MessageTemplate(N_("Session cancelled by the clinic (停诊)"), None),
    "booking.rescheduled": MessageTemplate(N_("Appointment rescheduled"), None),
    # members (members/services.py)
    "level.up": MessageTemplate(
        N_("You are now a %(level)s member"),
        N_(
            "With %(points)d points you have reached %(level)s. Your new privileges apply "
            "from now on."
        ),
    ),
    "level.changed": MessageTemplate(
        N_("Your membership level is now %(level)s"),
        N_(
            "Your points for the level are now %(points)d, so your level changed from "
            "%(before)s to %(level)s."
        ),
    ),
    "level.set_by_staff": MessageTemplate(
        N_("Your membership level is now %(level)s"),
        N_("The clinic changed your level from %(before)s to %(level)s. Reason: %(reason)s"),
    ),
    "points.adjusted": MessageTemplate(
        N_("Your points were adjusted: %(delta)+d"),
        N_("Reason: %(note)s. Your balance is now %(balance)d points."),
    ),
    "ban.lifted": MessageTemplate(
        N_("You can book online again"),
        N_("The clinic lifted the pause on your online booking. Reason: %(reason)s"),
    ),
    # Brief notices of a visit (the demo's history of older messages).
    "brief.booked": MessageTemplate(N_("Appointment booked"), N_("%(visit)s.")),
    "brief.paid": MessageTemplate(N_("Payment received, appointment confirmed"), N_("%(visit)s.")),
    "brief.cancelled": MessageTemplate(N_("Appointment cancelled"), N_("%(visit)s.")),
    "brief.reminder": MessageTemplate(
        N_("Reminder: your appointment is tomorrow"), N_("%(visit)s.")
    ),
}

# Phrases and sentences a message is put together from.
SNIPPETS: dict[str, str] = {
    "visit": N_("%(doctor)s (%(department)s) on %(day)s at %(time)s, number %(number)d"),
    "visit.for": N_(", for %(patient)s (%(relation)s)"),
    "session": N_("%(doctor)s (%(department)s), %(day)s %(session)s %(start)s–%(end)s"),
    "cancelled": N_("Your appointment with %(session)s was cancelled."),
    "refund.due": N_("¥%(amount)s will be refunded to the account you paid from."),
    "suspended": N_(
        "We are sorry: the session %(session)s is cancelled by the clinic (%(reason)s)."
    ),
    "alternative": N_(
        "%(doctor)s has a free slot on %(day)s at %(time)s. You can book it here: %(url)s"
    ),
    "moved": N_("Your appointment with %(old)s has been moved to %(new)s."),
    "moved.cheaper": N_(
        "The new session costs less: ¥%(amount)s will be refunded to the account you paid from."
    ),
    "moved.pay": N_("Please pay ¥%(amount)s before %(time)s, otherwise the slot is released."),
    "moved.paid": N_("Your payment carries over: there is nothing more to pay."),
    "moved.topped_up": N_("The difference of ¥%(amount)s is paid; there is nothing more to pay."),
}


# -- building parameters (senders) -----------------------------------------------------------


def snippet(key: str, **params: Any) -> dict[str, Any]:
    if key not in SNIPPETS:
        raise KeyError(f"unknown message snippet {key!r}")
    return {"snippet": key, "params": params}


def day(value: dt.date) -> dict[str, str]:
    return {"date": value.isoformat()}


def moment(value: dt.datetime) -> dict[str, str]:
    return {"datetime": value.isoformat()}


def localized(get: Callable[[], object]) -> dict[str, str]:
    """``get()`` (a name, a choice's label …) evaluated in each language of the site."""
    texts = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            texts[code] = str(get())
    return texts


# -- rendering (readers) ---------------------------------------------------------------------


def _language() -> str:
    return translation.get_language() or settings.LANGUAGE_CODE


def render_value(value: Any) -> str:
    if isinstance(value, list):
        separator = " " if _language().startswith("en") else ""
        return separator.join(filter(None, (render_value(part) for part in value)))
    if not isinstance(value, dict):
        return "" if value is None else str(value)
    if "snippet" in value:
        return _fill(gettext(SNIPPETS[value["snippet"]]), value.get("params") or {})
    if "concat" in value:
        return "".join(render_value(part) for part in value["concat"])
    if "date" in value:
        return formats.date_format(dt.date.fromisoformat(value["date"]), "MONTH_DAY_FORMAT")
    if "datetime" in value:
        moment_ = timezone.localtime(dt.datetime.fromisoformat(value["datetime"]))
        return formats.date_format(moment_, "DATETIME_FORMAT")
    language = _language()
    for code in (language, language.split("-")[0], settings.LANGUAGE_CODE):
        if value.get(code):
            return str(value[code])
    return next((str(text) for text in value.values() if text), "")


def _fill(text: str, params: dict[str, Any]) -> str:
    values = {
        name: value if isinstance(value, int | float) else render_value(value)
        for name, value in params.items()
    }
    return text % values


def render(template: str, params: dict[str, Any]) -> tuple[str, str]:
    """Title and body of a message of ``template`` in the active language."""
    spec = TEMPLATES[template]
    title = _fill(gettext(spec.title), params)
    body = (
        render_value(params.get("body")) if spec.body is None else _fill(gettext(spec.body), params)
    )
    return title, body


def check(template: str, params: dict[str, Any]) -> None:
    """Render ``template`` in every language, so a sender's mistake fails at once, not when
    the member opens the message."""
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            render(template, params)
