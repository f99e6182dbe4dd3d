"""The staff console under /staff/ (namespace ``staff``), gathered from the apps' staff views."""

from django.urls import path

from appointments import staff_views as scheduling
from billing import staff_views as desk
from members import staff_accounts
from members import staff_views as membership
from members import views as membership_views

from . import staff

app_name = "staff"

urlpatterns = [
    path("", staff.home, name="home"),
    path("login/", membership_views.staff_login, name="login"),
    path("logout/", staff.StaffLogoutView.as_view(), name="logout"),
    path("jobs/", staff.jobs, name="jobs"),
    path("audit/", staff.operation_log, name="operation_log"),
    path("staff-logins/", staff_accounts.staff_accounts, name="staff_accounts"),
    path(
        "staff-logins/<int:pk>/reset/",
        staff_accounts.staff_account_reset,
        name="staff_account_reset",
    ),
    # The day at the desk
    path("today/", scheduling.today, name="today"),
    path("check-in/", scheduling.check_in, name="check_in"),
    path("appointments/<int:pk>/", desk.appointment, name="appointment"),
    path(
        "appointments/<int:pk>/check-in/",
        scheduling.appointment_check_in,
        name="appointment_check_in",
    ),
    path("appointments/<int:pk>/cancel/", desk.cancel_for_member, name="appointment_cancel"),
    path("appointments/<int:pk>/pay/", desk.counter_payment, name="appointment_counter_payment"),
    path("walk-in/", desk.walk_in, name="walk_in"),
    # Members
    path("members/", membership.members, name="members"),
    path("members/<int:pk>/", desk.member, name="member"),
    path("members/<int:member_pk>/book/", desk.book_for_member, name="member_book"),
    path("levels/", membership.levels, name="levels"),
    path("levels/<int:pk>/", membership.level_edit, name="level_edit"),
    # The doctor's queue
    path("queue/", scheduling.queue, name="queue"),
    path("schedules/<int:pk>/call-next/", scheduling.call_next, name="call_next"),
    path("appointments/<int:pk>/complete/", desk.complete, name="appointment_complete"),
    path("appointments/<int:pk>/no-show/", scheduling.no_show, name="appointment_no_show"),
    # Scheduling
    path("schedules/", scheduling.schedules, name="schedules"),
    path("schedules/<int:pk>/", scheduling.schedule_edit, name="schedule_edit"),
    path("schedules/<int:pk>/suspend/", desk.suspend, name="schedule_suspend"),
    path("templates/", scheduling.templates, name="templates"),
    path("doctors/", scheduling.doctors, name="doctors"),
    path("doctors/new/", scheduling.doctor_edit, name="doctor_new"),
    path("doctors/<int:pk>/", scheduling.doctor_edit, name="doctor_edit"),
]
