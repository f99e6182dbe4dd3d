"""The front desk's money and cross-app actions in the staff console (namespace ``staff``,
included by the root URLconf)."""

from django.urls import path

from . import staff_views

urlpatterns = [
    path("appointments/<int:pk>/", staff_views.appointment, name="appointment"),
    path("appointments/<int:pk>/cancel/", staff_views.cancel_for_member, name="appointment_cancel"),
    path(
        "appointments/<int:pk>/reschedule/",
        staff_views.reschedule_for_member,
        name="appointment_reschedule",
    ),
    path(
        "appointments/<int:pk>/pay/",
        staff_views.counter_payment,
        name="appointment_counter_payment",
    ),
    path("unpaid/", staff_views.unpaid_holds, name="unpaid_holds"),
    path("walk-in/", staff_views.walk_in, name="walk_in"),
    path("members/<int:pk>/", staff_views.member, name="member"),
    path("members/<int:member_pk>/book/", staff_views.book_for_member, name="member_book"),
    path("appointments/<int:pk>/complete/", staff_views.complete, name="appointment_complete"),
    path("schedules/<int:pk>/suspend/", staff_views.suspend, name="schedule_suspend"),
]
