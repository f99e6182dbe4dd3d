"""The outcomes of a verification, the channels it comes through and the documents it checks."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from members.models import IdType


class Outcome(models.TextChoices):
    MATCH = "match", _("Name and ID number match")
    MISMATCH = "mismatch", _("Name and ID number do not match")
    NOT_FOUND = "not_found", _("No record of this ID number")
    ERROR = "error", _("Could not be checked")


class Channel(models.TextChoices):
    ONLINE = "online", _("Online, by the member")
    DESK = "desk", _("At the front desk")


# The documents a verifier can check online: mainland resident ID numbers (居民身份证,
# GB 11643) are what the 二要素 providers' registers hold; other documents (passports, permits)
# are checked in person at the front desk.
ONLINE_ID_TYPES = frozenset({IdType.RESIDENT})


# The provider name an in-person check at the desk is logged under (no provider is asked).
IN_PERSON = "in_person"
