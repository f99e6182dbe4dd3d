from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


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


class ReminderStatus(models.TextChoices):
    """Where a release reminder (放号提醒) stands."""

    WAITING = "waiting", _("Waiting for the opening")
    SENT = "sent", _("Reminded")
    CANCELLED = "cancelled", _("Cancelled")
    SESSION_CANCELLED = "session_cancelled", _("Not sent: session cancelled")
    EXPIRED = "expired", _("Not sent: session has passed")


REMINDER_TONES = {
    ReminderStatus.WAITING: "wait",
    ReminderStatus.SENT: "ok",
    ReminderStatus.CANCELLED: "off",
    ReminderStatus.SESSION_CANCELLED: "full",
    ReminderStatus.EXPIRED: "off",
}


class WaitlistStatus(models.TextChoices):
    """Where a place on a waitlist (候补) stands. An entry is offered a slot at most once."""

    WAITING = "waiting", pgettext_lazy("waitlist", "Waiting")
    OFFERED = "offered", _("Slot offered")
    BOOKED = "booked", _("Booked")
    EXPIRED = "expired", _("Offer not taken in time")
    LEFT = "left", _("Left the waitlist")
    CLOSED = "closed", _("Closed: session cancelled or passed")


WAITLIST_OPEN = (WaitlistStatus.WAITING, WaitlistStatus.OFFERED)

WAITLIST_TONES = {
    WaitlistStatus.WAITING: "wait",
    WaitlistStatus.OFFERED: "ok",
    WaitlistStatus.BOOKED: "ok",
    WaitlistStatus.EXPIRED: "off",
    WaitlistStatus.LEFT: "off",
    WaitlistStatus.CLOSED: "off",
}
