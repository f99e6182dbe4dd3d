from django.urls import path

from . import views

app_name = "billing"

urlpatterns = [
    path("payments/notify/<slug:gateway>/", views.gateway_notify, name="gateway_notify"),
    path("payments/sandbox/<str:out_trade_no>/", views.sandbox_cashier, name="sandbox_cashier"),
    path("book/<int:schedule_id>/", views.book, name="book"),
    path("waitlist/<int:pk>/accept/", views.waitlist_accept, name="waitlist_accept"),
    path("appointments/", views.appointment_list, name="appointments"),
    path("appointments/<int:pk>/", views.appointment_detail, name="appointment_detail"),
    path("appointments/<int:pk>/pay/", views.appointment_pay, name="appointment_pay"),
    path("appointments/<int:pk>/pay/wechat/", views.wechat_checkout, name="wechat_checkout"),
    path("appointments/<int:pk>/cancel/", views.appointment_cancel, name="appointment_cancel"),
    path(
        "appointments/<int:pk>/reschedule/",
        views.appointment_reschedule,
        name="appointment_reschedule",
    ),
    path(
        "appointments/<int:pk>/calendar.ics",
        views.appointment_calendar,
        name="appointment_calendar",
    ),
]
