from django.urls import path, re_path

from . import views

app_name = "members"

urlpatterns = [
    path("membership/", views.membership, name="membership"),
    path("profile/", views.profile, name="profile"),
    path("messages/", views.message_list, name="messages"),
    path("messages/<int:pk>/", views.message_detail, name="message_detail"),
    path("messages/read-all/", views.messages_read_all, name="messages_read_all"),
    path("accounts/login/", views.login, name="login"),  # allauth's, with the lockout
    path("accounts/login/verify/", views.login_code, name="login_code"),
    path("accounts/password/reset/", views.password_reset, name="password_reset"),
    path("accounts/password/reset/code/", views.password_reset_code, name="password_reset_code"),
    # allauth's e-mail pages and e-mailed reset links: members have a phone, not an address.
    re_path(r"^accounts/email/$", views.not_offered, name="no_email"),
    re_path(r"^accounts/confirm-email/", views.not_offered, name="no_email_confirmation"),
    re_path(r"^accounts/password/reset/(done|key)/", views.not_offered, name="no_email_reset"),
    re_path(r"^accounts/password/set/$", views.not_offered, name="no_password_set"),
    re_path(r"^accounts/login/code/", views.not_offered, name="no_login_code"),
]
