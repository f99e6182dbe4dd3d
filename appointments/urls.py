from django.urls import path

from . import views

app_name = "appointments"

urlpatterns = [
    path("", views.home, name="home"),
    path("doctors/<int:pk>/", views.doctor_detail, name="doctor_detail"),
    path("departments/<slug:code>/dates/", views.department_dates, name="department_dates"),
    path("reminders/", views.reminder_list, name="reminders"),
    path("reminders/sessions/<int:schedule_id>/", views.reminder_set, name="reminder_set"),
    path("reminders/<int:pk>/cancel/", views.reminder_cancel, name="reminder_cancel"),
    path("waitlist/", views.waitlist_list, name="waitlist"),
    path("waitlist/sessions/<int:schedule_id>/", views.waitlist_join, name="waitlist_join"),
    path("waitlist/<int:pk>/leave/", views.waitlist_leave, name="waitlist_leave"),
]
