from django.urls import path

from . import reminders, staff, views, waitlist

urlpatterns = [
    path("departments/", views.DepartmentListView.as_view(), name="departments"),
    path("doctors/", views.DoctorListView.as_view(), name="doctors"),
    path("doctors/<int:pk>/", views.DoctorDetailView.as_view(), name="doctor"),
    path("doctors/<int:pk>/sessions/", views.DoctorSessionsView.as_view(), name="doctor_sessions"),
    # The member's waitlist (accepting an offer books: billing/api/urls.py) and reminders
    path("waitlist/", waitlist.WaitlistView.as_view(), name="waitlist"),
    path("waitlist/<int:pk>/leave/", waitlist.WaitlistLeaveView.as_view(), name="waitlist_leave"),
    path("reminders/", reminders.RemindersView.as_view(), name="reminders"),
    path(
        "reminders/<int:pk>/cancel/", reminders.ReminderCancelView.as_view(), name="reminder_cancel"
    ),
    # The clinic day, for staff (completing a visit is billing's: billing/api/staff.py)
    path("staff/today/", staff.StaffTodayView.as_view(), name="staff_today"),
    path("staff/today/totals/", staff.StaffTodayTotalsView.as_view(), name="staff_today_totals"),
    path("staff/check-in/", staff.StaffCheckInView.as_view(), name="staff_check_in"),
    path(
        "staff/sessions/<int:pk>/call-next/",
        staff.StaffCallNextView.as_view(),
        name="staff_call_next",
    ),
    path(
        "staff/appointments/<int:pk>/no-show/",
        staff.StaffNoShowView.as_view(),
        name="staff_appointment_no_show",
    ),
]
