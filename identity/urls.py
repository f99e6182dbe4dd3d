from django.urls import path

from . import views

app_name = "identity"

urlpatterns = [
    path("patients/<int:pk>/real-name/", views.verify_patient, name="verify_patient"),
]
