from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("Members")

    def ready(self) -> None:
        # Plumbing: at login, mark a member who has a new agreement version to accept.
        from django.contrib.auth.signals import user_logged_in

        user_logged_in.connect(_consent_at_login, dispatch_uid="members.consent_at_login")


def _consent_at_login(sender: object, request: object, user: object, **kwargs: object) -> None:
    if request is None or not hasattr(request, "session"):
        return
    from .consents import mark_pending_at_login

    mark_pending_at_login(request=request, user=user)
