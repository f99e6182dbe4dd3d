"""Real-name verification in the staff console (namespace ``staff``)."""

from django.urls import path

from . import staff_views

urlpatterns = [
    path(
        "patients/<int:pk>/verify-in-person/",
        staff_views.verify_in_person,
        name="patient_verify_in_person",
    ),
]
