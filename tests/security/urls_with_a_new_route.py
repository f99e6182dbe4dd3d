"""The project's routes plus one nobody put in the permission matrix."""

from django.http import HttpResponse
from django.urls import path

from medbook.urls import urlpatterns as project_routes

urlpatterns = [
    *project_routes,
    path("reports/new/", lambda request: HttpResponse("new"), name="brand_new_report"),
]
