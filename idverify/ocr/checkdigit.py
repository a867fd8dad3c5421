"""ICAO 9303 check digits (weights 7, 3, 1), python-stdnum style.

Characters map to values ``0-9`` → 0–9, ``A-Z`` → 10–35, ``<`` → 0; the
weighted sum modulo 10 is the check digit.

>>> calc_check_digit("L898902C3")
'6'
>>> calc_check_digit("740812"), calc_check_digit("120415")
('2', '9')
>>> calc_check_digit("ZE184226B<<<<<")
'1'
>>> validate("L898902C36")
'L898902C36'
>>> is_valid("L898902C37")
False
>>> compact(" l898 902c3 6 ")
'L898902C36'
>>> calc_check_digit("L898902C36" + "7408122" + "1204159" + "ZE184226B<<<<<1")
'0'
>>> validate("L8989#2C36")
Traceback (most recent call last):
...
ValueError: invalid character '#' for an MRZ check digit
"""

from __future__ import annotations

_WEIGHTS = (7, 3, 1)


def char_value(char: str) -> int:
    """The ICAO value of one MRZ character (``ValueError`` if it is not one)."""
    if "0" <= char <= "9":
        return ord(char) - 48
    if "A" <= char <= "Z":
        return ord(char) - 55
    if char == "<":
        return 0
    raise ValueError(f"invalid character {char!r} for an MRZ check digit")


def checksum(data: str) -> int:
    """The 7-3-1 weighted sum of ``data`` modulo 10."""
    return sum(char_value(c) * _WEIGHTS[i % 3] for i, c in enumerate(data)) % 10


def calc_check_digit(data: str) -> str:
    """The check digit of ``data`` as a one-character string."""
    return str(checksum(data))


def compact(number: str) -> str:
    """Upper-case and remove spaces."""
    return "".join(number.split()).upper()


def validate(number: str) -> str:
    """``number`` is data followed by its check digit; return it compacted or raise ``ValueError``."""
    number = compact(number)
    if len(number) < 2:
        raise ValueError("too short: data and a check digit are needed")
    data, check = number[:-1], number[-1]
    expected = calc_check_digit(data)
    if check != expected:
        raise ValueError(f"check digit {check!r} does not match {expected!r}")
    return number


def is_valid(number: str) -> bool:
    """Whether ``number`` ends with the right check digit for the data before it."""
    try:
        validate(number)
    except ValueError:
        return False
    return True


def check_ok(data: str, check: str) -> bool:
    """Whether ``check`` is the check digit of ``data`` (``False`` on invalid characters).

    >>> check_ok("740812", "2"), check_ok("740812", "<"), check_ok("74#812", "2")
    (True, False, False)
    """
    try:
        return check == calc_check_digit(data)
    except ValueError:
        return False
