"""E-mail codes (OTP) and the personal secret code (PIN rules, scrypt)."""

from __future__ import annotations

import collections
import datetime as dt

import pytest

from idverify.flow import otp, pin


def test_otp_codes_are_six_random_digits() -> None:
    codes = [otp.new_code() for _ in range(3000)]
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert len(set(codes)) > 2950  # 3000 draws from 1e6: a handful of collisions at most
    first = collections.Counter(c[0] for c in codes)
    assert len(first) == 10 and max(first.values()) < 400  # leading zeros happen, no digit dominates


def test_otp_digest_is_salted_and_not_the_code() -> None:
    s1, s2 = otp.new_salt(), otp.new_salt()
    d1 = otp.code_digest("123456", s1)
    assert d1 != otp.code_digest("123456", s2)
    assert b"123456" not in d1 and len(d1) == 32
    assert otp.code_matches("123456", d1, s1)
    assert not otp.code_matches("123457", d1, s1)
    assert not otp.code_matches("123456", d1, s1, pepper=b"server")
    assert not otp.code_matches("12345é", d1, s1)


@pytest.mark.parametrize("code, reason", [
    ("12345", "secret_code_format"),
    ("1234567", "secret_code_format"),
    ("12a456", "secret_code_format"),
    ("١٢٣٤٥٦", "secret_code_format"),  # Arabic-Indic digits are not ASCII digits
    (123456, "secret_code_format"),
    ("000000", "secret_code_repeated"),
    ("777777", "secret_code_repeated"),
    ("121212", "secret_code_repeated"),
    ("417417", "secret_code_repeated"),
    ("123456", "secret_code_sequential"),
    ("654321", "secret_code_sequential"),
    ("345678", "secret_code_sequential"),
    ("890123", "secret_code_sequential"),
    ("210987", "secret_code_sequential"),
    ("123321", "secret_code_palindrome"),
    ("418814", "secret_code_palindrome"),
    ("159753", "secret_code_common"),
    ("520520", "secret_code_repeated"),
    ("147258", "secret_code_common"),
    ("314159", "secret_code_common"),
    ("507931", None),
    ("240682", None),
    ("093716", None),
])
def test_secret_code_rules(code: object, reason: str | None) -> None:
    assert pin.check_secret_code(code) == reason


@pytest.mark.parametrize("code", ["170569", "051769", "690517", "17051969"[:6], "051969", "196905",
                                  "171969", "196917", "690517", "051719"])
def test_secret_code_refuses_the_birth_date_in_any_usual_form(code: str) -> None:
    assert pin.check_secret_code(code, birth_dates=["1969-05-17"]) == "secret_code_birth_date"
    assert pin.check_secret_code(code, birth_dates=[dt.date(1969, 5, 17)]) == "secret_code_birth_date"
    assert pin.check_secret_code(code) is None  # the rule, not the structure, refuses it


def test_secret_code_refuses_the_nir_birth_month() -> None:
    forms = pin.nir_birth_forms("269054958815780")  # born May 1969 (or 2069)
    assert {"051969", "196905"} <= forms
    assert pin.check_secret_code("051969", extra_forbidden=forms) == "secret_code_birth_date"
    assert pin.nir_birth_forms("269254958815780") == frozenset()  # month 25: unknown
    assert pin.nir_birth_forms(None) == frozenset()


def test_secret_code_birth_dates_that_are_not_dates_are_ignored() -> None:
    assert pin.check_secret_code("507931", birth_dates=["not a date", "1969-13-45"]) is None


def test_scrypt_hash_is_salted_slow_and_verifiable() -> None:
    h1 = pin.hash_secret_code("507931", n=2**12)
    h2 = pin.hash_secret_code("507931", n=2**12)
    assert h1 != h2 and "507931" not in h1
    scheme, n, r, p, _salt, _digest = h1.split("$")
    assert (scheme, n, r, p) == ("scrypt", "4096", "8", "1")
    assert pin.verify_secret_code("507931", h1) and pin.verify_secret_code("507931", h2)
    assert not pin.verify_secret_code("507932", h1)
    assert not pin.verify_secret_code("507931", "md5$whatever")
    assert not pin.verify_secret_code("507931", "scrypt$x$8$1$AA==$AA==")
