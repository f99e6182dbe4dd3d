from django.db import models
from django.utils.translation import gettext_lazy as _


class DoctorTitle(models.TextChoices):
    CHIEF = "chief", _("Chief physician")  # 主任医师
    ASSOCIATE_CHIEF = "associate_chief", _("Associate chief physician")  # 副主任医师
    ATTENDING = "attending", _("Attending physician")  # 主治医师
    RESIDENT = "resident", _("Resident physician")  # 住院医师


class Session(models.TextChoices):
    MORNING = "morning", _("Morning")
    AFTERNOON = "afternoon", _("Afternoon")
    EVENING = "evening", _("Evening")


class ScheduleStatus(models.TextChoices):
    DRAFT = "draft", _("Waiting for release")  # 待放号
    PUBLISHED = "published", _("Released")  # 已放号
    SUSPENDED = "suspended", _("Session cancelled")  # 停诊
    FINISHED = "finished", _("Ended")


class AppointmentStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", _("Awaiting payment")
    CONFIRMED = "confirmed", _("Confirmed")
    CHECKED_IN = "checked_in", _("Checked in")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    NO_SHOW = "no_show", _("No-show")


# How a status looks in its pill (templates/includes/status.html): ok, wait, off or full.
STATUS_TONES = {
    ScheduleStatus.DRAFT: "wait",
    ScheduleStatus.PUBLISHED: "ok",
    ScheduleStatus.SUSPENDED: "off",
    ScheduleStatus.FINISHED: "off",
    AppointmentStatus.PENDING_PAYMENT: "wait",
    AppointmentStatus.CONFIRMED: "ok",
    AppointmentStatus.CHECKED_IN: "ok",
    AppointmentStatus.COMPLETED: "off",
    AppointmentStatus.CANCELLED: "full",
    AppointmentStatus.NO_SHOW: "full",
}

# Appointments that hold a slot: they count towards Schedule.booked and keep their queue number.
ACTIVE_STATUSES = (
    AppointmentStatus.PENDING_PAYMENT,
    AppointmentStatus.CONFIRMED,
    AppointmentStatus.CHECKED_IN,
    AppointmentStatus.COMPLETED,
)
# Appointments still ahead of the member (count towards the level's max_active_appointments).
UPCOMING_STATUSES = (
    AppointmentStatus.PENDING_PAYMENT,
    AppointmentStatus.CONFIRMED,
    AppointmentStatus.CHECKED_IN,
)
# Appointments a cancellation may still end.
CANCELLABLE_STATUSES = (AppointmentStatus.PENDING_PAYMENT, AppointmentStatus.CONFIRMED)


class Channel(models.TextChoices):
    WEB = "web", _("Website")
    API = "api", _("App / API")
    FRONT_DESK = "front_desk", _("Front desk")
    WALK_IN = "walk_in", _("Walk-in")


WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]
