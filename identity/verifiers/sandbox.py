"""The sandbox verifier: deterministic answers for the embedded default, the demo and the tests.
It asks nobody and never sees a real register.

Rules, in order (the ID number is a mainland resident ID that passed the GB 11643 check):

1. An ID number of the demo table below: ``match`` when the name is the table's, else
   ``mismatch``.
2. Any other number, by its sequence code (the three digits before the check digit, e.g.
   11010519850612 **000** X):

   * ``000`` → ``not_found`` (no record of this ID number), e.g. 11010519850612000X;
   * ``001`` → ``mismatch``, e.g. 110105198506120018;
   * ``002`` → ``error`` (the register cannot be reached now), e.g. 110105198506120026;
   * anything else → ``match`` when the name is 2–30 letters (Chinese characters, Latin
     letters, spaces or the middle dot ·), else ``mismatch``.

So the demo and the tests can show every outcome with a believable name.
"""

from __future__ import annotations

import re
import uuid

from ..choices import ONLINE_ID_TYPES, Outcome
from .base import Result

# Valid GB 11643 numbers made up for the demo, and the names their holders have.
DEMO_PEOPLE: dict[str, str] = {
    "310104199003051239": "张伟",
    "440305199505132561": "李娜",
    "320106197211203458": "刘芳",
    "110101201801012342": "王小明",
}
NOT_FOUND_SEQUENCE = "000"
MISMATCH_SEQUENCE = "001"
ERROR_SEQUENCE = "002"
PLAUSIBLE_NAME = re.compile(r"^[\u3400-\u9fffA-Za-z·• ]{2,30}$")

# What the sandbox says, in the provider's manner (a code and a description).
_ANSWERS = {
    Outcome.MATCH: ("0", "姓名和身份证号一致"),
    Outcome.MISMATCH: ("-1", "姓名和身份证号不一致"),
    Outcome.NOT_FOUND: ("-5", "证件库中无此身份证记录"),
    Outcome.ERROR: ("-4", "证件库服务异常"),
}


def sandbox_outcome(*, name: str, id_number: str) -> str:
    """The outcome the sandbox gives ``name`` with ``id_number`` (the rules above)."""
    name = name.strip()
    if id_number in DEMO_PEOPLE:
        return Outcome.MATCH if DEMO_PEOPLE[id_number] == name else Outcome.MISMATCH
    sequence = id_number[14:17]
    if sequence == NOT_FOUND_SEQUENCE:
        return Outcome.NOT_FOUND
    if sequence == MISMATCH_SEQUENCE:
        return Outcome.MISMATCH
    if sequence == ERROR_SEQUENCE:
        return Outcome.ERROR
    return Outcome.MATCH if PLAUSIBLE_NAME.match(name) else Outcome.MISMATCH


class SandboxVerifier:
    name = "sandbox"

    def verify(self, *, name: str, id_type: str, id_number: str) -> Result:
        if id_type not in ONLINE_ID_TYPES:
            return Result(
                outcome=Outcome.ERROR,
                provider=self.name,
                code="unsupported_id_type",
                message="only resident ID cards are checked",
            )
        outcome = sandbox_outcome(name=name, id_number=id_number)
        code, message = _ANSWERS[outcome]
        return Result(
            outcome=outcome,
            provider=self.name,
            reference=f"SBX-{uuid.uuid4().hex[:20]}",
            code=code,
            message=message,
        )
