"""The public waiting-room screen of a department (no namespace: ``waiting_room``)."""

from django.urls import path

from . import staff_views

urlpatterns = [
    path("waiting/<slug:code>/", staff_views.waiting_room, name="waiting_room"),
]
