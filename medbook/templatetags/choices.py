"""``{{ item|status_label }}``: ``item.get_status_display()`` from a table made once per field
(medbook/choices.py), for the status pills of long lists."""

from __future__ import annotations

from django import template
from django.db import models

from medbook.choices import choice_label

register = template.Library()


@register.filter
def status_label(item: models.Model) -> object:
    return choice_label(item, "status")
