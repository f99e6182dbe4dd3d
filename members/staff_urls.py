"""The members part of the staff console (namespace ``staff``, included by the root URLconf)."""

from django.urls import path

from . import staff_accounts, staff_views, views

urlpatterns = [
    path("login/", views.staff_login, name="login"),
    path("staff-logins/", staff_accounts.staff_accounts, name="staff_accounts"),
    path(
        "staff-logins/<int:pk>/reset/",
        staff_accounts.staff_account_reset,
        name="staff_account_reset",
    ),
    path("members/", staff_views.members, name="members"),
    path(
        "members/<int:pk>/patients/add/",
        staff_views.member_patient_add,
        name="member_patient_add",
    ),
    path("levels/", staff_views.levels, name="levels"),
    path("levels/<int:pk>/", staff_views.level_edit, name="level_edit"),
]
