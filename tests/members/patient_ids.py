"""Valid GB 11643 resident ID numbers for tests (the checksum computed, as the seed does)."""

from __future__ import annotations

import datetime as dt
import itertools

from medbook.personal_data import national_id_check_char

_sequence = itertools.count(101)


def resident_id(birth: dt.date = dt.date(1990, 5, 17), *, male: bool = True) -> str:
    """A fresh valid resident ID number (Beijing Dongcheng) for ``birth``."""
    number = next(_sequence) % 500 * 2 + (1 if male else 0)
    first17 = f"110101{birth:%Y%m%d}{number:03d}"
    return first17 + national_id_check_char(first17)
