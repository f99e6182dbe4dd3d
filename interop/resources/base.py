"""What every FHIR resource type of MedBook is: a name, the search parameters it serves, how
a login reads one by id, searches, and how one record becomes the resource's JSON.

A new type is one subclass in its own module, added to :data:`interop.resources.TYPES`: the
views, the Bundle, the CapabilityStatement and the errors come with it."""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.utils import timezone

from appointments.selectors.readable import Reader

from ..search import Query

__all__ = ["Context", "Param", "ResourceType", "instant", "int_id", "reference"]


@dataclass(frozen=True)
class Param:
    """A search parameter: its FHIR type (date, reference, token, string) and what it does."""

    type: str
    doc: str


@dataclass
class Context:
    """One request's: who reads, the patients shown unmasked and the visit records a staff
    login read (the view logs them)."""

    reader: Reader
    unmasked: list[int] = field(default_factory=list)
    records: list[int] = field(default_factory=list)


class ResourceType(ABC):
    name: ClassVar[str]
    params: ClassVar[dict[str, Param]] = {}
    # Patient records need a member's, a doctor's or the desk's login (not the catalogue).
    patient_data: ClassVar[bool] = True

    def read(self, reader: Reader, id: str) -> Any | None:
        """The record with FHIR id ``id`` that ``reader`` may read, or None (a 404)."""
        return next(iter(self.search(reader, Query(), ids=[int_id(id)])), None)

    @abstractmethod
    def search(
        self, reader: Reader, query: Query, *, ids: list[int] | None = None
    ) -> Sequence[Any]:
        """What ``reader`` may read that matches ``query``, in a stable order (a QuerySet or a
        list); ``ids``: only these (``_id``, or a read)."""

    @abstractmethod
    def render(self, obj: Any, context: Context) -> dict[str, Any]:
        """The resource's FHIR JSON for ``obj``."""


def int_id(value: str) -> int:
    """A MedBook id from a FHIR id; 0 (which nothing has) when it is not a number."""
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 12 else 0


def instant(value: dt.datetime | None) -> str | None:
    """An aware date and time as FHIR writes it (clinic time, with its offset)."""
    if value is None:
        return None
    return timezone.localtime(value).isoformat()


def reference(kind: str, pk: Any, display: str | None = None) -> dict[str, str]:
    found = {"reference": f"{kind}/{pk}"}
    if display:
        found["display"] = display
    return found
