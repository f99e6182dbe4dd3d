"""medbook.refusals: a service's refusal becomes a message on the page, or a 4xx that says why."""

from __future__ import annotations

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.cache import SessionStore
from django.test import RequestFactory

from appointments.exceptions import NotAllowed, SoldOut
from medbook import refusals
from medbook.errors import DomainError, Forbidden, Invalid, NotFound


def request(htmx: bool = False):
    made = RequestFactory().post("/", HTTP_HX_REQUEST="true" if htmx else None)
    made.htmx = htmx
    made.session = SessionStore()
    made._messages = FallbackStorage(made)
    return made


class PhoneForm(forms.Form):
    phone = forms.CharField()


def test_a_refusal_in_the_block_becomes_a_page_message() -> None:
    made = request()
    with refusals.shown(made) as refusal:
        raise SoldOut()
    assert refusal and refusal.status == 409 and refusal.error.code == "sold_out"
    assert [str(m) for m in get_messages(made)] == [SoldOut().message]


def test_a_refusal_about_a_field_lands_on_that_field_of_the_form() -> None:
    form = PhoneForm({"phone": "1"})
    assert form.is_valid()
    with refusals.shown(request(), form=form) as refusal:
        raise Invalid("号码已注册", field="phone")
    assert refusal.status == 400
    assert form.errors == {"phone": ["号码已注册"]}
    other = PhoneForm({"phone": "1"})
    other.is_valid()
    with refusals.shown(request(), form=other):
        raise Invalid("整单无效", field="no_such_field")
    assert other.non_field_errors() == ["整单无效"]


def test_a_block_that_is_not_refused_is_false_and_other_errors_pass_through() -> None:
    with refusals.shown(request()) as refusal:
        pass
    assert not refusal and refusal.status == 200
    with pytest.raises(KeyError), refusals.shown(request()):
        raise KeyError("a bug is not a refusal")


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (SoldOut(), 409),
        (NotAllowed(), 403),
        (Forbidden(), 403),
        (NotFound(), 404),
        (Invalid("x"), 400),
    ],
)
@pytest.mark.django_db
def test_an_uncaught_refusal_is_a_page_with_its_status_and_message(error, status) -> None:
    middleware = refusals.RefusalMiddleware(lambda r: None)
    response = middleware.process_exception(request(), error)
    assert response.status_code == status
    assert error.message in response.content.decode()
    htmx = middleware.process_exception(request(htmx=True), error)
    assert (htmx.status_code, htmx.content.decode()) == (status, error.message)


def test_other_exceptions_are_left_to_django() -> None:
    assert (
        refusals.RefusalMiddleware(lambda r: None).process_exception(request(), KeyError()) is None
    )


def test_every_app_error_is_a_domain_error_with_a_stable_code() -> None:
    from appointments.exceptions import AppointmentError
    from billing.exceptions import PaymentError
    from members.exceptions import MemberError

    for base in (AppointmentError, PaymentError, MemberError):
        assert issubclass(base, DomainError)
        codes = [sub.code for sub in base.__subclasses__()]
        assert len(codes) == len(set(codes)) and base.code not in codes
