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
from .flow import FlowDashboard, FlowFigures, FlowRow, flow_dashboard
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
from .releases import ReleaseFigures, ReleaseRow, ReleasesDashboard, releases_dashboard
from .revenue import (
    InsurerRow,
    LevelRow,
    Money,
    MoneyRow,
    RevenueDashboard,
    revenue_dashboard,
)

__all__ = [
    "OUTCOMES",
    "PERCENTAGES",
    "BookingFilters",
    "BookingsDashboard",
    "Change",
    "Figures",
    "FlowDashboard",
    "FlowFigures",
    "FlowRow",
    "InsurerRow",
    "LevelMove",
    "LevelRow",
    "MemberFigures",
    "MemberRow",
    "MembersDashboard",
    "MixPoint",
    "Money",
    "MoneyRow",
    "NoShowFigures",
    "NoShowsDashboard",
    "RateRow",
    "ReleaseFigures",
    "ReleaseRow",
    "ReleasesDashboard",
    "RevenueDashboard",
    "Row",
    "active_members",
    "bookings_dashboard",
    "changes",
    "flow_dashboard",
    "members_dashboard",
    "noshows_dashboard",
    "releases_dashboard",
    "revenue_dashboard",
]
