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
from .noshows import NoShowFigures, NoShowsDashboard, RateRow, noshows_dashboard
from .revenue import LevelRow, Money, MoneyRow, RevenueDashboard, revenue_dashboard

__all__ = [
    "OUTCOMES",
    "PERCENTAGES",
    "BookingFilters",
    "BookingsDashboard",
    "Change",
    "Figures",
    "LevelRow",
    "Money",
    "MoneyRow",
    "NoShowFigures",
    "NoShowsDashboard",
    "RateRow",
    "RevenueDashboard",
    "Row",
    "bookings_dashboard",
    "changes",
    "noshows_dashboard",
    "revenue_dashboard",
]
