"""NIR, the French social security number: compact / validate / is_valid / format.

15 characters: sex (1), birth year (2), birth month (2; 20 and above when
unknown), département (2; ``2A``/``2B`` for Corsica; ``97``/``98`` + one more
digit overseas; ``99`` abroad), commune (3; the country code abroad), order
(3), key (2) = 97 − (the 13 first digits mod 97), with 2A → 19 and 2B → 18.

>>> parse_nir("2 95 10 99 126 111 93").department, is_valid("253072B07300470"), is_valid("253072A07300443")
('99', True, True)
>>> format("295109912611193")
'2 95 10 99 126 111 93'
>>> calc_check_digits("2530719073004")
'43'
>>> validate("295109912611199")
Traceback (most recent call last):
...
idverify.errors.InvalidNIR: nir_key: the key 99 does not match the number (expected 93)
>>> validate("2951099126111")
Traceback (most recent call last):
...
idverify.errors.InvalidNIR: nir_length: a NIR has 15 characters (13 + a 2-digit key), got 13
>>> validate("29510991261119X")
Traceback (most recent call last):
...
idverify.errors.InvalidNIR: nir_characters: only digits are allowed, and 2A/2B as the département (position 6-7)
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from idverify.errors import InvalidNIR

_SEPARATORS = re.compile(r"[\s.\-_/]")
_SEXES = "123478"  # 1/2 men/women; 3/4 and 7/8 for provisional numbers


def compact(number: str) -> str:
    """Remove spaces and separators, upper-case.

    >>> compact(" 2 53 07 2b 073 004 70 ")
    '253072B07300470'
    """
    return _SEPARATORS.sub("", number).upper()


def _numeric(number13: str) -> int:
    return int(number13.replace("2A", "19", 1).replace("2B", "18", 1)) if number13[5:7] in ("2A", "2B") \
        else int(number13)


def calc_check_digits(number13: str) -> str:
    """The 2-digit key of the first 13 characters."""
    return f"{97 - _numeric(number13[:13]) % 97:02d}"


def validate(number: str) -> str:
    """The compact NIR, or :class:`InvalidNIR` whose reason says what is wrong
    (``nir_length``, ``nir_characters``, ``nir_sex``, ``nir_month``, ``nir_key``)."""
    if not isinstance(number, str):
        raise InvalidNIR("nir_characters", f"a NIR is text, got {type(number).__name__}")
    value = compact(number)
    if len(value) != 15:
        raise InvalidNIR("nir_length", f"a NIR has 15 characters (13 + a 2-digit key), got {len(value)}")
    body = value[:5] + value[7:]
    if not (body.isascii() and body.isdigit()) or not (
            value[5:7].isdigit() or value[5:7] in ("2A", "2B")):
        raise InvalidNIR("nir_characters",
                         "only digits are allowed, and 2A/2B as the département (position 6-7)")
    if value[0] not in _SEXES:
        raise InvalidNIR("nir_sex", f"the first digit (sex) is {value[0]}, expected 1 or 2 (3, 4, 7, 8 provisional)")
    month = int(value[3:5])
    if month == 0 or 13 <= month <= 19:
        raise InvalidNIR("nir_month", f"the birth month {value[3:5]} does not exist (01-12, or 20 and above)")
    expected = calc_check_digits(value)
    if value[13:] != expected:
        raise InvalidNIR("nir_key", f"the key {value[13:]} does not match the number (expected {expected})")
    return value


def is_valid(number: str) -> bool:
    """Whether ``number`` is a valid NIR."""
    try:
        validate(number)
    except InvalidNIR:
        return False
    return True


def format(number: str, separator: str = " ") -> str:
    """The NIR grouped as printed on the carte Vitale: ``2 69 05 49 588 157 80``."""
    value = compact(number)
    return separator.join((value[0], value[1:3], value[3:5], value[5:7], value[7:10], value[10:13], value[13:]))


@dataclasses.dataclass(frozen=True, slots=True)
class NIR:
    """A validated NIR and its parts.

    ``birth_month`` is ``None`` when the number says the month is unknown
    (20 and above); ``department`` is 3 digits overseas (``971`` ...) and
    ``commune`` then 2; abroad (``99``) ``commune`` is the INSEE country code.
    """

    value: str
    sex: str  # "M" or "F"
    birth_year: str  # 2 digits, century not encoded
    birth_month: int | None
    department: str
    commune: str
    order: str
    key: str

    @property
    def formatted(self) -> str:
        return format(self.value)

    @property
    def born_abroad(self) -> bool:
        return self.department == "99"

    def __str__(self) -> str:
        return self.value

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["formatted"] = self.formatted
        return data


def parse_nir(text: str) -> NIR:
    """Validate ``text`` and return its parts; raises :class:`InvalidNIR` (reason code) when invalid.

    >>> n = parse_nir("253072B07300470")
    >>> n.sex, n.birth_year, n.birth_month, n.department, n.commune, n.formatted
    ('F', '53', 7, '2B', '073', '2 53 07 2B 073 004 70')
    >>> parse_nir("1 85 05 971 23 456 61").department
    '971'
    """
    value = validate(text)
    dept, commune = value[5:7], value[7:10]
    if dept in ("97", "98"):
        dept, commune = value[5:8], value[8:10]
    month = int(value[3:5])
    return NIR(value=value, sex="M" if value[0] in "137" else "F", birth_year=value[1:3],
               birth_month=month if month <= 12 else None, department=dept, commune=commune,
               order=value[10:13], key=value[13:])


def find_nirs(text: str) -> list[str]:
    """Valid NIRs found in free text (OCR output), grouped or not, in order.

    >>> find_nirs("N° 2 69 05 49 588 157 80 / 1 23 45")
    ['269054958815780']
    """
    found: list[str] = []
    pattern = r"(?<![0-9A-Z])[1-478][\s.]?\d{2}[\s.]?\d{2}[\s.]?(?:\d{2}|2[AB])[\s.]?\d{3}[\s.]?\d{3}[\s.]?\d{2}(?!\d)"
    for m in re.finditer(pattern, text.upper()):
        candidate = compact(m.group(0))
        if is_valid(candidate) and candidate not in found:
            found.append(candidate)
    return found
