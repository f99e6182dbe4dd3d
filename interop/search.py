"""FHIR search parameters (https://hl7.org/fhir/R4/search.html), the part MedBook serves:
dates with the prefixes eq, ge, gt, le and lt at any precision (a year to a second), references
(``Patient/12`` or ``12``), tokens (``booked``, ``system|value``) and strings, each of them
repeatable (AND) and comma-separated (OR; not for dates); paging with ``_count`` and
``_offset``. A parameter the resource does not serve, a modifier, a malformed value: a
:class:`FhirError` (400, an OperationOutcome) — the server is no more lenient than its
CapabilityStatement says (as if every request asked ``Prefer: handling=strict``)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _

__all__ = ["DEFAULT_COUNT", "MAX_COUNT", "FhirError", "Query", "parse_query"]

DEFAULT_COUNT = 20
MAX_COUNT = 100
MAX_OFFSET = 10_000
# Parameters every search takes: paging, and the formats this server answers in (JSON only).
COMMON = {"_count", "_offset", "_format", "_pretty"}
JSON_FORMATS = {"json", "application/json", "application/fhir+json"}
ID_PATTERN = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_DATE = re.compile(
    r"^(?P<prefix>eq|ne|gt|lt|ge|le|sa|eb|ap)?"
    r"(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:T(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.\d+)?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


class FhirError(Exception):
    """A request the server refuses: a 4xx OperationOutcome (a bad search is a 400) with
    ``code`` as its issue type."""

    def __init__(self, message: str, *, code: str = "invalid", status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


@dataclass(frozen=True)
class Query:
    """A search's parameters (name -> every value given), and the page asked for."""

    params: dict[str, list[str]] = field(default_factory=dict)
    count: int = DEFAULT_COUNT
    offset: int = 0

    def values(self, name: str) -> list[str]:
        return self.params.get(name, [])

    def has(self, name: str) -> bool:
        return name in self.params

    def ids(self, name: str, resource_type: str | None = None) -> list[int] | None:
        """The numeric ids a reference (or ``_id``) parameter names, OR-ed across commas and
        AND-ed across repeats (None: the parameter was not given)."""
        if name not in self.params:
            return None
        chosen: set[int] | None = None
        for value in self.params[name]:
            found = {_numeric_id(part, name, resource_type) for part in _split(value, name)}
            chosen = found if chosen is None else chosen & found
        return sorted(chosen or ())

    def tokens(self, name: str, allowed: set[str] | None = None) -> list[str] | None:
        """A token parameter's codes (``system|code`` kept whole), checked against ``allowed``."""
        if name not in self.params:
            return None
        chosen: set[str] | None = None
        for value in self.params[name]:
            found = set(_split(value, name))
            if allowed is not None and not found <= allowed:
                raise FhirError(
                    _("%(name)s must be one of: %(values)s.")
                    % {"name": name, "values": ", ".join(sorted(allowed))}
                )
            chosen = found if chosen is None else chosen & found
        return sorted(chosen or ())

    def text(self, name: str) -> str | None:
        values = self.params.get(name)
        if not values:
            return None
        if len(values) > 1 or "," in values[0]:
            raise FhirError(_("Give %(name)s once, with one value.") % {"name": name})
        return values[0].strip()

    def period(self, name: str) -> tuple[dt.datetime | None, dt.datetime | None]:
        """The half-open range [from, before) every value of a date parameter allows."""
        lower: dt.datetime | None = None
        upper: dt.datetime | None = None
        for value in self.params.get(name, []):
            low, high = date_bounds(value, name)
            if low is not None and (lower is None or low > lower):
                lower = low
            if high is not None and (upper is None or high < upper):
                upper = high
        return lower, upper


def _split(value: str, name: str) -> list[str]:
    parts = [part.strip() for part in value.split(",")]
    if not all(parts):
        raise FhirError(_("%(name)s has an empty value.") % {"name": name})
    return parts


def _numeric_id(value: str, name: str, resource_type: str | None) -> int:
    if resource_type and "/" in value:
        kind, _sep, value = value.rpartition("/")
        if kind.rsplit("/", 1)[-1] != resource_type:
            raise FhirError(
                _("%(name)s refers to a %(type)s: %(type)s/<id>.")
                % {"name": name, "type": resource_type}
            )
    if not value.isascii() or not value.isdigit() or len(value) > 12:
        raise FhirError(
            _("%(name)s: %(value)s is not an id here.") % {"name": name, "value": value[:64]}
        )
    return int(value)


def date_bounds(value: str, name: str) -> tuple[dt.datetime | None, dt.datetime | None]:
    """What ``value`` (a FHIR date search value with its prefix) allows of an instant: a
    half-open range [from, before), either end open. A value without a zone is clinic time."""
    found = _DATE.match(value.strip())
    if found is None:
        raise FhirError(
            _(
                "%(name)s: %(value)s is not a date. Use YYYY, YYYY-MM, YYYY-MM-DD or "
                "YYYY-MM-DDThh:mm[:ss][Z|+hh:mm], after eq, ge, gt, le or lt."
            )
            % {"name": name, "value": value[:64]}
        )
    prefix = found["prefix"] or "eq"
    if prefix not in {"eq", "ge", "gt", "le", "lt"}:
        raise FhirError(
            _("%(name)s: the prefix %(prefix)s is not supported here.")
            % {"name": name, "prefix": prefix},
            code="not-supported",
        )
    try:
        start, end = _range(found)
    except ValueError as exc:
        raise FhirError(
            _("%(name)s: %(value)s is not a date.") % {"name": name, "value": value[:64]}
        ) from exc
    return {
        "eq": (start, end),
        "ge": (start, None),
        "gt": (end, None),
        "le": (None, end),
        "lt": (None, start),
    }[prefix]


def _range(found: re.Match) -> tuple[dt.datetime, dt.datetime]:
    """The instants a date value of its precision covers: [start, end)."""
    year, month, day = int(found["year"]), found["month"], found["day"]
    if found["tz"] == "Z":
        zone: dt.tzinfo = dt.UTC
    elif found["tz"]:
        sign = 1 if found["tz"][0] == "+" else -1
        hours, minutes = int(found["tz"][1:3]), int(found["tz"][4:6])
        zone = dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
    else:
        zone = timezone.get_current_timezone()
    if month is None:
        return dt.datetime(year, 1, 1, tzinfo=zone), dt.datetime(year + 1, 1, 1, tzinfo=zone)
    month_n = int(month)
    if day is None:
        start = dt.datetime(year, month_n, 1, tzinfo=zone)
        following = dt.datetime(year + month_n // 12, month_n % 12 + 1, 1, tzinfo=zone)
        return start, following
    if found["hour"] is None:
        start = dt.datetime(year, month_n, int(day), tzinfo=zone)
        return start, start + dt.timedelta(days=1)
    second = found["second"]
    start = dt.datetime(
        year,
        month_n,
        int(day),
        int(found["hour"]),
        int(found["minute"]),
        int(second or 0),
        tzinfo=zone,
    )
    return start, start + (dt.timedelta(seconds=1) if second else dt.timedelta(minutes=1))


def _whole_number(raw: list[str], name: str, low: int, high: int) -> int:
    value = raw[-1]
    if len(raw) > 1 or not value.isascii() or not value.isdigit() or not low <= int(value) <= high:
        raise FhirError(
            _("%(name)s must be a whole number from %(low)d to %(high)d.")
            % {"name": name, "low": low, "high": high}
        )
    return int(value)


def parse_query(raw: dict[str, list[str]], allowed: set[str]) -> Query:
    """The search in ``raw`` (a query string's lists), or FhirError: a parameter (or
    modifier) not in ``allowed``, bad paging."""
    unknown = sorted(set(raw) - allowed - COMMON)
    if unknown:
        served = ", ".join(sorted(allowed)) or "-"
        raise FhirError(
            _("The search parameter %(name)s is not supported here (supported: %(served)s).")
            % {"name": unknown[0], "served": served},
            code="not-supported",
        )
    check_format(raw)
    count = _whole_number(raw["_count"], "_count", 1, MAX_COUNT) if "_count" in raw else None
    offset = _whole_number(raw["_offset"], "_offset", 0, MAX_OFFSET) if "_offset" in raw else 0
    params = {name: values for name, values in raw.items() if name not in COMMON}
    return Query(params=params, count=count or DEFAULT_COUNT, offset=offset)


def check_format(raw: dict[str, list[str]]) -> None:
    """``_format`` may ask for JSON only (406 for XML, Turtle …)."""
    for value in raw.get("_format", []):
        if value.split(";")[0].strip() not in JSON_FORMATS:
            raise FhirError(
                _("This server answers in JSON only (_format=json)."),
                code="not-supported",
                status=406,
            )
