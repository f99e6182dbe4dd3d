"""The clinic day and scheduling in the staff console (namespace ``staff``, included by the
root URLconf)."""

from django.urls import path

from . import staff_views

urlpatterns = [
    # The day at the desk
    path("today/", staff_views.today, name="today"),
    path("today/check-in/", staff_views.board_check_in, name="board_check_in"),
    path("check-in/", staff_views.check_in, name="check_in"),
    path(
        "appointments/<int:pk>/check-in/",
        staff_views.appointment_check_in,
        name="appointment_check_in",
    ),
    # The doctor's queue
    path("queue/", staff_views.queue, name="queue"),
    path("schedules/<int:pk>/call-next/", staff_views.call_next, name="call_next"),
    path("appointments/<int:pk>/no-show/", staff_views.no_show, name="appointment_no_show"),
    path("appointments/<int:pk>/recall/", staff_views.recall, name="appointment_recall"),
    path("appointments/<int:pk>/skip/", staff_views.skip, name="appointment_skip"),
    path("displays/", staff_views.displays, name="displays"),
    # Scheduling
    path("schedules/", staff_views.schedules, name="schedules"),
    path("schedules/<int:pk>/", staff_views.schedule_edit, name="schedule_edit"),
    path("templates/", staff_views.templates, name="templates"),
    path("doctors/", staff_views.doctors, name="doctors"),
    path("doctors/new/", staff_views.doctor_edit, name="doctor_new"),
    path("departments/<slug:code>/", staff_views.department_edit, name="department_edit"),
    path("doctors/<int:pk>/", staff_views.doctor_edit, name="doctor_edit"),
]
