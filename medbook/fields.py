"""Model fields for personal data: encrypted text and its blind index."""

from __future__ import annotations

from typing import Any

from django.db import models

from medbook import crypto


class EncryptedTextField(models.TextField):
    """Text stored AES-GCM encrypted; Python code sees the plaintext.

    Values cannot be filtered on (each encryption is randomised): look rows up through the
    companion :class:`BlindIndexField`.
    """

    def __init__(self, *args: Any, purpose: str, **kwargs: Any) -> None:
        self.purpose = purpose
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> tuple[Any, ...]:
        name, path, args, kwargs = super().deconstruct()
        kwargs["purpose"] = self.purpose
        return name, path, args, kwargs

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return crypto.decrypt(value, purpose=self.purpose)

    def get_prep_value(self, value: Any) -> str | None:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(value, purpose=self.purpose)


class BlindIndexField(models.CharField):
    """HMAC of another field's plaintext, recomputed on every save (exact look-ups, uniqueness)."""

    def __init__(self, *args: Any, source: str, purpose: str, **kwargs: Any) -> None:
        self.source = source
        self.purpose = purpose
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> tuple[Any, ...]:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        kwargs["purpose"] = self.purpose
        kwargs.pop("max_length", None)
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> str | None:
        plain = getattr(model_instance, self.source)
        value = crypto.blind_index(plain, purpose=self.purpose) if plain else None
        setattr(model_instance, self.attname, value)
        return value
