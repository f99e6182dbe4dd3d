from django.urls import path

from . import views

urlpatterns = [
    path("appointments/", views.AppointmentListView.as_view(), name="appointments"),
    path("appointments/<int:pk>/", views.AppointmentDetailView.as_view(), name="appointment"),
    path("appointments/<int:pk>/pay/", views.AppointmentPayView.as_view(), name="appointment_pay"),
    path(
        "appointments/<int:pk>/cancel/",
        views.AppointmentCancelView.as_view(),
        name="appointment_cancel",
    ),
    path(
        "appointments/<int:pk>/reschedule/",
        views.AppointmentRescheduleView.as_view(),
        name="appointment_reschedule",
    ),
]
