from django.urls import path

from . import views

app_name = "members"

urlpatterns = [
    path("membership/", views.membership, name="membership"),
    path("profile/", views.profile, name="profile"),
    path("messages/", views.message_list, name="messages"),
    path("messages/<int:pk>/", views.message_detail, name="message_detail"),
    path("messages/read-all/", views.messages_read_all, name="messages_read_all"),
    path("accounts/password/reset/", views.password_reset, name="password_reset"),
    path("accounts/password/reset/code/", views.password_reset_code, name="password_reset_code"),
]
