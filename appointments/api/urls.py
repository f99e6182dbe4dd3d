from django.urls import path

from . import views

urlpatterns = [
    path("departments/", views.DepartmentListView.as_view(), name="departments"),
    path("doctors/", views.DoctorListView.as_view(), name="doctors"),
    path("doctors/<int:pk>/", views.DoctorDetailView.as_view(), name="doctor"),
    path("doctors/<int:pk>/sessions/", views.DoctorSessionsView.as_view(), name="doctor_sessions"),
]
