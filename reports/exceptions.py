"""The reports' refusals."""

from __future__ import annotations

from django.utils.translation import gettext as _

from medbook.errors import DomainError, Invalid


class BadRange(Invalid):
    code = "bad_range"

    def default_message(self) -> str:
        return _("The last day must not be before the first.")


class NoDetail(Invalid):
    code = "no_detail"

    def default_message(self) -> str:
        return _("This dashboard has no list of records to export.")


class ExportFailed(DomainError):
    """An export that cannot be written (its message is shown on the export)."""

    code = "export_failed"
