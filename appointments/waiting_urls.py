"""The public waiting-room screens: one per department and one for the clinic, with the JSON
they poll (no namespace: ``waiting_room``, ``waiting_clinic`` and their ``…_state``)."""

from django.urls import path

from . import staff_views

urlpatterns = [
    path("waiting/", staff_views.waiting_clinic, name="waiting_clinic"),
    path("waiting/state.json", staff_views.waiting_clinic_state, name="waiting_clinic_state"),
    path("waiting/<slug:code>/", staff_views.waiting_room, name="waiting_room"),
    path(
        "waiting/<slug:code>/state.json",
        staff_views.waiting_room_state,
        name="waiting_room_state",
    ),
]
