"""The one place a service's refusal (:class:`medbook.errors.DomainError`) meets HTTP.

* In a view that shows the refusal on its page::

      with refusals.shown(request, form=form) as refusal:
          booked = services.book(...)
      if refusal:          # refused: the message is on the form, or among the page messages
          return render(..., status=refusal.status)

* A refusal a view does not catch ends the request as a page with the message and the status
  the error means (409, 403, 404 or 400): :class:`RefusalMiddleware`.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

from django import forms
from django.contrib import messages
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from .constraints import message_for
from .errors import DomainError


class Conflict(DomainError):
    code = "conflict"


__all__ = ["RefusalMiddleware", "refusal_response", "shown"]


class shown:
    """Catch a :class:`DomainError` raised in the block and show it: on ``form`` (on the field
    it names when the form has that field) or, without a form, as a page message. The context
    value is true when the block was refused; ``.error`` and ``.status`` tell how."""

    def __init__(self, request: HttpRequest, *, form: forms.Form | None = None) -> None:
        self.request = request
        self.form = form
        self.error: DomainError | None = None

    def __enter__(self) -> shown:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        if not isinstance(error, DomainError):
            return False
        self.error = error
        if self.form is not None:
            field = error.field if error.field in self.form.fields else None
            self.form.add_error(field, error.message)
        else:
            messages.error(self.request, error.message)
        return True

    def __bool__(self) -> bool:
        return self.error is not None

    @property
    def status(self) -> int:
        return self.error.status if self.error is not None else 200


def refusal_response(request: HttpRequest, error: DomainError) -> HttpResponse:
    """A page (or, for HTMX, only the message) saying why, with the status the error means."""
    if getattr(request, "htmx", False):
        return HttpResponse(error.message, status=error.status, content_type="text/plain")
    return TemplateResponse(
        request, "refused.html", {"message": error.message, "code": error.code}, status=error.status
    ).render()


class RefusalMiddleware:
    """A :class:`DomainError` that leaves a view answers with :func:`refusal_response`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DomainError):
            return refusal_response(request, exception)
        if isinstance(exception, IntegrityError) and (message := message_for(exception)):
            # A constraint a service did not turn into its error: 409 with its message.
            return refusal_response(request, Conflict(message))
        return None
