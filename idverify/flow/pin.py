"""The user's personal 6-digit secret code: rules and slow hashing (scrypt).

Rules (DESIGN §3, memorized secrets): 6 digits; not repeated or a short
repeated pattern, not sequential, not a palindrome, not among the most common
codes, not the holder's birth date in any usual form. The code is hashed with
``hashlib.scrypt`` and a random salt and never stored, logged or returned.

>>> check_secret_code("111111"), check_secret_code("123456"), check_secret_code("123321")
('secret_code_repeated', 'secret_code_sequential', 'secret_code_palindrome')
>>> check_secret_code("150369", birth_dates=["1969-03-15"])
'secret_code_birth_date'
>>> check_secret_code("507931") is None
True
>>> h = hash_secret_code("507931", n=2**10)
>>> h.startswith("scrypt$1024$8$1$"), verify_secret_code("507931", h), verify_secret_code("507932", h)
(True, True, False)
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import itertools
import secrets
from collections.abc import Iterable

from idverify.flow.otp import is_well_formed

# Codes reported among the most frequent 6-digit PINs/passcodes in published
# analyses of leaked and user-chosen codes (keyboard/keypad patterns, famous
# numbers, couples like 520520 "I love you" in Chinese). Patterns also caught
# by the structural rules (111111, 123456, ...) are listed too, for clarity.
COMMON_CODES: frozenset[str] = frozenset({
    "000000", "111111", "222222", "333333", "444444", "555555", "666666", "777777", "888888", "999999",
    "123456", "654321", "123123", "121212", "112233", "123321", "696969", "159753", "131313", "123654",
    "789456", "101010", "007007", "147258", "147852", "159357", "258456", "852456", "520520", "456789",
    "112358", "102030", "100200", "001001", "789789", "246810", "135790", "147369", "321654", "369258",
    "963852", "741852", "852963", "314159", "271828", "456123", "987654", "012345", "543210", "998877",
    "778899", "121314", "111222", "112211", "000111", "010203", "123789", "741963", "258369", "951753",
    "753951", "159951", "357159", "369369", "456456", "789987", "852852", "131415", "202020", "212121",
    "232323", "252525", "272727", "292929", "303030", "420420", "666999", "999666", "010101", "020202",
})

_MAXMEM_MARGIN = 1 << 21


def _repeated(code: str) -> bool:
    return any(code == code[:p] * (len(code) // p) for p in (1, 2, 3))


def _sequential(code: str) -> bool:
    steps = {(int(b) - int(a)) % 10 for a, b in itertools.pairwise(code)}
    return steps in ({1}, {9})


def _as_date(value: dt.date | str) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def birth_date_forms(value: dt.date | str) -> frozenset[str]:
    """Every 6-digit way of writing a full birth date.

    The 6 orders of DD, MM, YY, the 6-digit cuts of DDMMYYYY / YYYYMMDD /
    MMDDYYYY, and MMYYYY, YYYYMM, DDYYYY, YYYYDD.

    >>> sorted(birth_date_forms("1969-03-15"))[:6]
    ['031519', '031569', '031969', '036915', '150319', '150369']
    """
    d = _as_date(value)
    if d is None:
        return frozenset()
    dd, mm, yyyy = f"{d.day:02d}", f"{d.month:02d}", f"{d.year:04d}"
    yy = yyyy[2:]
    forms = {"".join(p) for p in itertools.permutations((dd, mm, yy))}
    for eight in (dd + mm + yyyy, yyyy + mm + dd, mm + dd + yyyy):
        forms.update((eight[:6], eight[2:]))
    forms.update((mm + yyyy, yyyy + mm, dd + yyyy, yyyy + dd))
    return frozenset(forms)


def birth_month_forms(yy: int, month: int) -> frozenset[str]:
    """6-digit forms of a birth year (2 digits, both centuries) and month, as the NIR gives them.

    >>> sorted(birth_month_forms(69, 3))
    ['031969', '032069', '196903', '206903']
    """
    if not 1 <= month <= 12 or not 0 <= yy <= 99:
        return frozenset()
    mm = f"{month:02d}"
    forms: set[str] = set()
    for century in ("19", "20"):
        yyyy = f"{century}{yy:02d}"
        forms.update((mm + yyyy, yyyy + mm))
    return frozenset(forms)


def nir_birth_forms(nir: str | None) -> frozenset[str]:
    """Birth year/month forms from a NIR (digits 2-5 are YYMM; MM >= 13 means unknown).

    >>> "051969" in nir_birth_forms("269054958815780")
    True
    """
    if not nir or len(nir) < 5 or not nir[1:5].isdigit():
        return frozenset()
    return birth_month_forms(int(nir[1:3]), int(nir[3:5]))


def check_secret_code(code: object, *, birth_dates: Iterable[dt.date | str] = (),
                      extra_forbidden: Iterable[str] = ()) -> str | None:
    """The reason code refusing ``code``, or ``None`` when it is acceptable."""
    if not is_well_formed(code):
        return "secret_code_format"
    assert isinstance(code, str)
    if _repeated(code):
        return "secret_code_repeated"
    if _sequential(code):
        return "secret_code_sequential"
    if code == code[::-1]:
        return "secret_code_palindrome"
    if code in COMMON_CODES:
        return "secret_code_common"
    forbidden: set[str] = set(extra_forbidden)
    for d in birth_dates:
        forbidden |= birth_date_forms(d)
    if code in forbidden:
        return "secret_code_birth_date"
    return None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_secret_code(code: str, *, n: int = 2**15, r: int = 8, p: int = 1) -> str:
    """``scrypt$n$r$p$salt$hash`` (base64 salt and 32-byte hash); the code itself is not kept."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(code.encode("ascii"), salt=salt, n=n, r=r, p=p, dklen=32,
                            maxmem=128 * r * (n + p + 2) + _MAXMEM_MARGIN)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def verify_secret_code(code: str, stored: str) -> bool:
    """Whether ``code`` matches a :func:`hash_secret_code` string (constant-time compare)."""
    try:
        scheme, n_s, r_s, p_s, salt_s, digest_s = stored.split("$")
        n, r, p = int(n_s), int(r_s), int(p_s)
        salt, digest = base64.b64decode(salt_s), base64.b64decode(digest_s)
        if scheme != "scrypt":
            return False
        probe = hashlib.scrypt(code.encode("ascii"), salt=salt, n=n, r=r, p=p, dklen=len(digest),
                               maxmem=128 * r * (n + p + 2) + _MAXMEM_MARGIN)
    except (ValueError, UnicodeEncodeError):
        return False
    return hmac.compare_digest(probe, digest)
