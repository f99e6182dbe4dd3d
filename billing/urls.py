from django.urls import path

from . import views

app_name = "billing"

urlpatterns = [
    path("payments/notify/<slug:gateway>/", views.gateway_notify, name="gateway_notify"),
]
