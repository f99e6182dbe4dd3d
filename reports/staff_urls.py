"""The reports in the staff console (namespace ``staff``, under /staff/reports/)."""

from django.urls import path

from . import staff_views

urlpatterns = [
    path("", staff_views.index, name="reports"),
    path("bookings/", staff_views.bookings, name="reports_bookings"),
    path("no-shows/", staff_views.noshows, name="reports_noshows"),
]
