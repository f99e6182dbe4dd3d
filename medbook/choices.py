"""A choice field's label, looked up in a table made once per field.

Django's ``get_<field>_display()`` rebuilds the field's whole choice table on every call and
translates every label to hash it (``make_hashable``): ~0.1 ms a call, which a list of 100–150
rows pays once per row and column (a status pill, a doctor's title in ``__str__``)."""

from __future__ import annotations

from functools import cache

from django.db import models


@cache
def _labels(field: models.Field) -> dict[object, object]:
    # The labels stay lazy: translated into the language of the request that shows them.
    return dict(field.flatchoices)


def choice_label(item: models.Model, name: str) -> object:
    """``item.get_<name>_display()``: the label of the value of ``item``'s field ``name`` (the
    value itself when it is not one of the choices)."""
    value = getattr(item, name)
    return _labels(item._meta.get_field(name)).get(value, value)
