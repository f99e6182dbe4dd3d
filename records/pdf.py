"""A visit record as a PDF (A4), in the language of the request. Chinese is set in reportlab's
built-in CID font STSong-Light (Adobe's Asian font pack names it; PDF readers supply the
glyphs), so no font file ships with the project."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .selectors import RecordView

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

TITLE = ParagraphStyle("title", fontName=FONT, fontSize=16, leading=22, alignment=1)
SMALL = ParagraphStyle("small", fontName=FONT, fontSize=9, leading=13, alignment=1)
HEAD = ParagraphStyle("head", fontName=FONT, fontSize=11, leading=16, spaceBefore=8)
BODY = ParagraphStyle("body", fontName=FONT, fontSize=10.5, leading=16, wordWrap="CJK")
NOTE = ParagraphStyle("note", parent=BODY, textColor="#8a4b00")


def _p(text: str, style: ParagraphStyle = BODY) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _day(moment) -> str:
    return date_format(timezone.localtime(moment), "DATE_FORMAT")


def render_pdf(*, view: RecordView, clinic: dict) -> bytes:
    """The record's current version with the clinic's details, the patient (ID masked), the
    doctor and the date; an amended record says so and lists its earlier versions' dates."""
    record, version = view.record, view.current
    patient, doctor = record.patient, record.doctor
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=_("Visit record"),
        author=str(clinic.get("name") or "MedBook"),
    )
    contact = " · ".join(str(clinic.get(k)) for k in ("address", "phone") if clinic.get(k))
    story = [
        _p(str(clinic.get("name") or "MedBook"), TITLE),
        _p(contact, SMALL),
        Spacer(1, 4 * mm),
        _p(_("Outpatient visit record"), TITLE),
        Spacer(1, 4 * mm),
    ]
    facts = [
        (_("Patient"), f"{patient.name} ({patient.get_relation_display()})"),
        (_("ID number"), patient.masked_id_number or "—"),
        (_("Department"), doctor.department.name),
        (_("Doctor"), f"{doctor.name} {doctor.get_title_display()}"),
        (_("Visit date"), date_format(view.visit_day, "DATE_FORMAT")),
        (_("Record no."), f"{record.pk}-v{version.number}"),
    ]
    table = Table([[_p(label), _p(value)] for label, value in facts], colWidths=[32 * mm, None])
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, "#999999"),
                ("BACKGROUND", (0, 0), (0, -1), "#f0f4f8"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story.append(table)
    diagnosis = version.diagnosis
    sections = [
        (_("Chief complaint"), version.chief_complaint),
        (
            _("Diagnosis (ICD-10)"),
            diagnosis.label if diagnosis else version.diagnosis_code,
        ),
        (_("Advice"), version.advice or "—"),
        (_("Prescriptions"), "\n".join(version.prescription_lines) or "—"),
        (
            _("Follow-up date"),
            date_format(version.follow_up_on, "DATE_FORMAT") if version.follow_up_on else "—",
        ),
    ]
    for label, text in sections:
        story += [_p(label, HEAD), _p(text)]
    if view.amended:
        story += [
            Spacer(1, 4 * mm),
            _p(
                _("Amended on %(date)s: %(reason)s")
                % {
                    "date": _day(version.created_at),
                    "reason": version.amendment_reason,
                },
                NOTE,
            ),
            _p(
                _("Earlier versions: %(list)s")
                % {"list": ", ".join(f"v{v.number} ({_day(v.created_at)})" for v in view.earlier)},
                NOTE,
            ),
        ]
    story += [
        Spacer(1, 8 * mm),
        _p(
            _("Written by %(doctor)s on %(date)s.")
            % {
                "doctor": doctor.name,
                "date": date_format(timezone.localtime(version.created_at), "DATETIME_FORMAT"),
            },
            SMALL,
        ),
    ]
    document.build(story)
    return buffer.getvalue()


def filename(view: RecordView) -> str:
    return f"medbook-record-{view.record.pk}-v{view.current.number}.pdf"
