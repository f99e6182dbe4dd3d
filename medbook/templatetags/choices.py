"""The one way a status is shown: ``{% status_pill item %}``, the label of ``item.status`` in a
pill of its tone (``item.status_tone``). A tag, not an included template: long lists (a week's
150 sessions, today's board) render it once a row, and an include costs a template render with
its own context each time; the label comes from a table made once per field
(medbook/choices.py), not from ``get_status_display()``."""

from __future__ import annotations

from django import template
from django.db import models
from django.utils.html import format_html
from django.utils.safestring import SafeString

from medbook.choices import choice_label

register = template.Library()


@register.simple_tag
def status_pill(item: models.Model) -> SafeString:
    return format_html(
        '<span class="pill {} status-{}">{}</span>',
        item.status_tone,
        item.status,
        choice_label(item, "status"),
    )
