from django.urls import path

from . import views

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="auth_token"),
    path("auth/token/refresh/", views.RefreshView.as_view(), name="auth_token_refresh"),
    path("auth/logout/", views.LogoutView.as_view(), name="auth_logout"),
    path("auth/signup/code/", views.SignupCodeView.as_view(), name="auth_signup_code"),
    path("auth/signup/", views.SignupView.as_view(), name="auth_signup"),
    path("me/", views.MeView.as_view(), name="me"),
    path("consents/", views.ConsentsView.as_view(), name="consents"),
    path("membership/", views.MembershipView.as_view(), name="membership"),
    path("membership/points/", views.PointsListView.as_view(), name="membership_points"),
    path("messages/", views.MessageListView.as_view(), name="messages"),
    path("messages/<int:pk>/", views.MessageDetailView.as_view(), name="message"),
    path("patients/", views.PatientListView.as_view(), name="patients"),
    path("patients/<int:pk>/", views.PatientDetailView.as_view(), name="patient"),
    path("messages/read-all/", views.MessagesReadAllView.as_view(), name="messages_read_all"),
]
