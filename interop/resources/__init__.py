"""MedBook's FHIR R4 resource types, by name. Adding one is a module with a
:class:`~.base.ResourceType` subclass and a line here."""

from __future__ import annotations

from .base import Context, Param, ResourceType
from .conditions import ConditionType
from .people import PatientType, PractitionerType
from .scheduling import ScheduleType, SlotType
from .visits import AppointmentType, EncounterType

__all__ = ["TYPES", "Context", "Param", "ResourceType"]

TYPES: dict[str, ResourceType] = {
    kind.name: kind
    for kind in (
        PatientType(),
        PractitionerType(),
        ScheduleType(),
        SlotType(),
        AppointmentType(),
        EncounterType(),
        ConditionType(),
    )
}
