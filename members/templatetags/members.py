"""Template filters for personal data: masked, never shown in full."""

from django import template

from medbook.personal_data import mask_national_id, mask_phone

register = template.Library()

register.filter("mask_phone", mask_phone)
register.filter("mask_national_id", mask_national_id)
