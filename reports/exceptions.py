"""The reports' refusals."""

from __future__ import annotations

from django.utils.translation import gettext as _

from medbook.errors import Invalid


class BadRange(Invalid):
    code = "bad_range"

    def default_message(self) -> str:
        return _("The last day must not be before the first.")
