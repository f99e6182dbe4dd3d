"""Signed webhooks for partner systems: the events MedBook tells subscribers about.

The apps' services call :func:`emit` inside the transaction of the change; it writes the event,
one delivery per subscription that wants it and an outbox job per delivery, so the event exists
exactly when the change commits (design invariant 6). Delivery (``delivery``) POSTs the event
signed Stripe-style; subscriptions are managed by clinic admins in the console
(``subscriptions``). This package imports no app: the apps build their payloads.
"""

from .events import EVENTS, emit, subscribed_events

__all__ = ["EVENTS", "emit", "subscribed_events"]
