from django.urls import path

from . import views

app_name = "triage"

urlpatterns = [
    path("triage/", views.triage_page, name="triage"),
    path("triage/for-you/", views.for_you, name="for_you"),
]
