from django.urls import path

from . import moves, views, waitlist

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
    path(
        "appointments/<int:pk>/reschedule/options/",
        moves.RescheduleOptionsView.as_view(),
        name="appointment_reschedule_options",
    ),
    path(
        "waitlist/<int:pk>/accept/", waitlist.WaitlistAcceptView.as_view(), name="waitlist_accept"
    ),
]
