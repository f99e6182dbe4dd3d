from django.urls import path

from . import staff, views

urlpatterns = [
    path("departments/", views.DepartmentListView.as_view(), name="departments"),
    path("doctors/", views.DoctorListView.as_view(), name="doctors"),
    path("doctors/<int:pk>/", views.DoctorDetailView.as_view(), name="doctor"),
    path("doctors/<int:pk>/sessions/", views.DoctorSessionsView.as_view(), name="doctor_sessions"),
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
