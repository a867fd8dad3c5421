"""One-time e-mail codes: 6 random digits, stored as HMAC-SHA256, compared in constant time.

The code itself is never stored: only ``HMAC(key = pepper + per-activation salt, code)``.
The short life (10 min), the single use and the 5-tries lock are enforced by
the service with the stored timestamps and counters.

>>> salt = new_salt()
>>> code = new_code()
>>> len(code), code.isdigit()
(6, True)
>>> digest = code_digest(code, salt)
>>> code_matches(code, digest, salt), code_matches("x" + code[1:], digest, salt)
(True, False)
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

CODE_DIGITS = 6


def new_code(digits: int = CODE_DIGITS) -> str:
    """A uniformly random decimal code from :mod:`secrets` (leading zeros kept)."""
    return f"{secrets.randbelow(10**digits):0{digits}d}"


def new_salt() -> bytes:
    """A fresh 16-byte per-activation salt."""
    return secrets.token_bytes(16)


def is_well_formed(code: object, digits: int = CODE_DIGITS) -> bool:
    """Exactly ``digits`` ASCII digits.

    >>> is_well_formed("012345"), is_well_formed("12345"), is_well_formed("١٢٣٤٥٦")
    (True, False, False)
    """
    return isinstance(code, str) and len(code) == digits and code.isascii() and code.isdigit()


def code_digest(code: str, salt: bytes, pepper: bytes = b"") -> bytes:
    """HMAC-SHA256 of the code keyed by ``pepper + salt``."""
    return hmac.new(pepper + salt, code.encode("ascii"), hashlib.sha256).digest()


def code_matches(candidate: str, digest: bytes, salt: bytes, pepper: bytes = b"") -> bool:
    """Constant-time comparison of a typed code with the stored digest."""
    try:
        probe = code_digest(candidate, salt, pepper)
    except UnicodeEncodeError:
        probe = b"\0" * 32
    return hmac.compare_digest(probe, digest)
