"""``{% real_name_card member %}``: the account's patients and their real-name verification on
the staff console's member page, with the desk's in-person action; ``{% member_real_names
member %}``: the same list on the member's own profile, with the way to verify each."""

from __future__ import annotations

from django import template

from identity.choices import Outcome
from identity.selectors import desk_patients
from members.patients import member_patients

register = template.Library()


@register.inclusion_tag("identity/partials/_desk_patients.html", takes_context=True)
def real_name_card(context: template.Context, member) -> dict:
    patients = list(desk_patients(member=member))
    for patient in patients:
        patient.last_outcome_label = (
            Outcome(patient.last_outcome).label if patient.last_outcome else ""
        )
    return {
        "patients": patients,
        "perms": context.get("perms"),
        "member": member,
    }


@register.inclusion_tag("identity/partials/_member_patients.html")
def member_real_names(member) -> dict:
    """The member's own patients with their real-name state and the way to verify each."""
    return {"patients": list(member_patients(member=member))}
