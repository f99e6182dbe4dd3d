from django.urls import path, re_path

from . import channel_views, consent_views, patient_views, views

app_name = "members"

urlpatterns = [
    path("membership/", views.membership, name="membership"),
    path("profile/", views.profile, name="profile"),
    path("profile/patients/", patient_views.patient_list, name="patients"),
    path("profile/patients/add/", patient_views.patient_add, name="patient_add"),
    path("profile/patients/<int:pk>/edit/", patient_views.patient_edit, name="patient_edit"),
    path("profile/patients/<int:pk>/remove/", patient_views.patient_remove, name="patient_remove"),
    path(
        "profile/patients/<int:pk>/insurance/",
        patient_views.patient_insurance,
        name="patient_insurance",
    ),
    path("profile/notifications/", channel_views.channel_preferences, name="channels"),
    path("sms/receipts/<slug:provider>/", channel_views.sms_receipt, name="sms_receipt"),
    path("messages/", views.message_list, name="messages"),
    path("messages/<int:pk>/", views.message_detail, name="message_detail"),
    path("messages/read-all/", views.messages_read_all, name="messages_read_all"),
    path("legal/<slug:kind>/", consent_views.legal, name="legal"),
    path("account/consent/", consent_views.consent, name="consent"),
    path("account/consent/sensitive/", consent_views.consent_sensitive, name="consent_sensitive"),
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
