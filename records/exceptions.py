"""Refusals of the visit-record services."""

from __future__ import annotations

from django.utils.translation import gettext as _

from medbook.errors import DomainError


class NotAtVisit(DomainError):
    code = "record_not_at_visit"

    def default_message(self) -> str:
        return _("A record is written for a patient who is checked in or whose visit is done.")


class AlreadyWritten(DomainError):
    code = "record_already_written"

    def default_message(self) -> str:
        return _("This visit already has a record: amend it instead.")


class NoRecord(DomainError):
    code = "record_missing"
    status = 404

    def default_message(self) -> str:
        return _("This visit has no record yet.")
