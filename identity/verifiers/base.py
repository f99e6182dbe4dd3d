"""The interface every real-name verifier adapter implements, and the result it returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..choices import Outcome


@dataclass(frozen=True)
class Result:
    """What a provider said about one name + ID number pair.

    ``outcome`` is one of :class:`identity.choices.Outcome`; ``reference`` is the provider's
    id of the request (what its support asks for); ``code`` and ``message`` are the provider's
    own result code and words (never the name or the number), kept for the log."""

    outcome: str
    provider: str
    reference: str = ""
    code: str = ""
    message: str = ""

    @property
    def matched(self) -> bool:
        return self.outcome == Outcome.MATCH


class Verifier(Protocol):
    name: str

    def verify(self, *, name: str, id_type: str, id_number: str) -> Result:
        """Ask whether ``name`` is the holder of ``id_number`` (an ID of ``id_type``, already
        validated and normalised). Never raises for the provider's answers, a timeout or a
        network failure: those are ``Outcome.ERROR`` results."""
        ...
