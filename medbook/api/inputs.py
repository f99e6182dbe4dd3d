"""What the API reads, exactly as its schema says: REST framework is looser than the schema it
publishes (``0`` or ``"yes"`` for a boolean, ``?days=`` read as "not given"), and a client
built from the schema should find the server no more lenient than the document."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

__all__ = [
    "LOCAL_NAME_HELP",
    "ClockTimeField",
    "JsonBooleanField",
    "QueryBooleanField",
    "QuerySerializer",
]

# A name kept in Chinese and English (departments, doctors, specialties, rooms, levels).
LOCAL_NAME_HELP = _(
    "In the request's language: the English name when the request is in English and one is "
    "set, else the Chinese name."
)


class JsonBooleanField(serializers.BooleanField):
    """A JSON body's ``true`` or ``false``: not also ``0``, ``1``, ``"yes"`` or ``"on"``, which
    REST framework's field takes for form posts."""

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, bool):
            return data
        self.fail("invalid", input=data)


class QueryBooleanField(serializers.BooleanField):
    """A query parameter's ``true`` or ``false``, as a boolean is written in a URL."""

    def to_internal_value(self, data: Any) -> bool:
        if data in ("true", "false"):
            return data == "true"
        self.fail("invalid", input=data)


class QuerySerializer(serializers.Serializer):
    """Filters from the query string. A parameter sent empty (``?days=``) is checked as the
    value it is — REST framework reads a form's empty field as "not given" and would quietly
    use the default; a parameter sent twice counts once, its last value."""

    def __init__(self, instance: Any = None, data: Any = empty, **kwargs: Any) -> None:
        if hasattr(data, "dict"):  # a QueryDict
            data = data.dict()
        super().__init__(instance, data, **kwargs)


@extend_schema_field(
    {"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$", "example": "08:15"}
)
class ClockTimeField(serializers.TimeField):
    """A time of day on the clinic's clock, ``HH:MM`` (an estimated visit time). The schema
    says so with a pattern: JSON Schema's ``time`` format asks for a UTC offset, which a time
    on the clinic's own clock does not have."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%H:%M", **kwargs)
