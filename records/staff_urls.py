"""Visit records in the staff console (namespace ``staff``, included by the root URLconf)."""

from django.urls import path

from . import staff_views

urlpatterns = [
    path(
        "appointments/<int:pk>/record/",
        staff_views.appointment_record,
        name="appointment_record",
    ),
    path("records/diagnoses/", staff_views.diagnosis_search, name="diagnosis_search"),
    path("records/<int:pk>/", staff_views.record, name="record"),
    path("records/<int:pk>/pdf/", staff_views.record_pdf, name="record_pdf"),
]
