from django.contrib.auth.decorators import login_not_required
from django.urls import path

from . import views

app_name = "fhir"

# The FHIR views check the bearer token themselves (401 as an OperationOutcome, no login page).

urlpatterns = [
    path("metadata", login_not_required(views.MetadataView.as_view()), name="metadata"),
    path("<str:resource_type>", login_not_required(views.SearchView.as_view()), name="search"),
    path("<str:resource_type>/<str:id>", login_not_required(views.ReadView.as_view()), name="read"),
]
