from django.urls import path

from . import views

app_name = "billing"

urlpatterns = [
    path("payments/notify/<slug:gateway>/", views.gateway_notify, name="gateway_notify"),
    path("payments/sandbox/<str:out_trade_no>/", views.sandbox_cashier, name="sandbox_cashier"),
]
