from django.urls import path

from . import views

app_name = "records"

urlpatterns = [
    path("records/", views.record_list, name="list"),
    path("records/<int:pk>/", views.record_detail, name="detail"),
    path("records/<int:pk>/pdf/", views.record_pdf, name="pdf"),
]
