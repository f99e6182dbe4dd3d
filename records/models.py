"""Visit records (门诊病历): one per completed visit, its text in append-only versions.

A correction never changes what was written: it is a new version (an amendment, with its
reason), and the earlier ones stay, shown as amended. Both tables refuse UPDATE and DELETE on
PostgreSQL (migration 0002), so they need no row history of their own. Every text is
encrypted at rest (``medbook.fields.EncryptedTextField``); the follow-up date is not (the
booking link needs it and it says nothing on its own).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from appointments.models import Appointment, Doctor
from medbook.fields import EncryptedTextField
from members.models import Patient

from . import icd10
from .icd10 import Diagnosis

PURPOSE = "visit_record"


class VisitRecord(models.Model):
    """A visit's record: who was seen, by whom, at which appointment. Its text is in versions."""

    appointment = models.OneToOneField(
        Appointment,
        on_delete=models.PROTECT,
        related_name="visit_record",
        verbose_name=_("appointment"),
    )
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="visit_records", verbose_name=_("patient")
    )
    doctor = models.ForeignKey(
        Doctor, on_delete=models.PROTECT, related_name="visit_records", verbose_name=_("doctor")
    )
    created_at = models.DateTimeField(_("written at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("visit record")
        verbose_name_plural = _("visit records")
        indexes = [models.Index(fields=["patient", "created_at"], name="visitrecord_patient_idx")]
        permissions = [
            ("write_visit_record", _("Can write and amend the records of their own patients")),
            ("view_any_visit_record", _("Can read and print any patient's visit record")),
        ]

    def __str__(self) -> str:
        return _("Visit record #%(id)s") % {"id": self.pk}

    @property
    def audit_label(self) -> str:
        """The operation log's name for the record: its id, no text (no words either: the log
        page names the kind in the reader's language)."""
        return f"#{self.pk}"


class RecordVersion(models.Model):
    """One version of a record's text: 1 is what the doctor wrote at the visit, each later
    one an amendment with its reason. Never changed or deleted."""

    record = models.ForeignKey(
        VisitRecord, on_delete=models.PROTECT, related_name="versions", verbose_name=_("record")
    )
    number = models.PositiveSmallIntegerField(_("version"))
    chief_complaint = EncryptedTextField(_("chief complaint"), purpose=f"{PURPOSE}.chief_complaint")
    diagnosis_code = EncryptedTextField(_("diagnosis (ICD-10)"), purpose=f"{PURPOSE}.diagnosis")
    advice = EncryptedTextField(_("advice"), purpose=f"{PURPOSE}.advice", blank=True, default="")
    prescriptions = EncryptedTextField(
        _("prescriptions"), purpose=f"{PURPOSE}.prescriptions", blank=True, default=""
    )
    follow_up_on = models.DateField(_("follow-up date"), null=True, blank=True)
    amendment_reason = EncryptedTextField(
        _("reason for the amendment"), purpose=f"{PURPOSE}.amendment", blank=True, default=""
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("written by"),
    )
    created_at = models.DateTimeField(_("written at"), default=timezone.now)

    class Meta:
        ordering = ["record", "-number"]
        verbose_name = _("visit record version")
        verbose_name_plural = _("visit record versions")
        constraints = [
            models.UniqueConstraint(fields=["record", "number"], name="recordversion_unique"),
            models.CheckConstraint(condition=Q(number__gte=1), name="recordversion_number_gte_1"),
        ]

    def __str__(self) -> str:
        return f"#{self.record_id} v{self.number}"

    @property
    def is_amendment(self) -> bool:
        return self.number > 1

    @property
    def diagnosis(self) -> Diagnosis | None:
        """The listed diagnosis of the code (None: a code no longer in the shipped list)."""
        return icd10.diagnosis(self.diagnosis_code)

    @property
    def prescription_lines(self) -> list[str]:
        return [line.strip() for line in self.prescriptions.splitlines() if line.strip()]
