"""Reads of the reports: the dashboards' figures, from the rollups (reports.models) and, for
the members paused for no-shows, the members app's selector. One module per dashboard."""

from .bookings import (
    OUTCOMES,
    PERCENTAGES,
    BookingFilters,
    BookingsDashboard,
    Change,
    Figures,
    Row,
    bookings_dashboard,
    changes,
)
from .members import (
    LevelMove,
    MemberFigures,
    MemberRow,
    MembersDashboard,
    MixPoint,
    active_members,
    members_dashboard,
)
from .noshows import NoShowFigures, NoShowsDashboard, RateRow, noshows_dashboard

__all__ = [
    "OUTCOMES",
    "PERCENTAGES",
    "BookingFilters",
    "BookingsDashboard",
    "Change",
    "Figures",
    "LevelMove",
    "MemberFigures",
    "MemberRow",
    "MembersDashboard",
    "MixPoint",
    "NoShowFigures",
    "NoShowsDashboard",
    "RateRow",
    "Row",
    "active_members",
    "bookings_dashboard",
    "changes",
    "members_dashboard",
    "noshows_dashboard",
]
