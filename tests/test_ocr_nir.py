"""NIR validation: DESIGN §3 vectors, error reasons, properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import idverify
from idverify.errors import InvalidNIR
from idverify.ocr import nir


@pytest.mark.parametrize("value", ["295109912611193", "253072B07300470", "253072A07300443", "2 69 05 49 588 157 80"])
def test_valid_vectors(value: str) -> None:
    assert nir.is_valid(value)
    assert idverify.parse_nir(value).value == nir.compact(value)


@pytest.mark.parametrize(("value", "reason"), [
    ("295109912611199", "nir_key"),
    ("29510991261119", "nir_length"),
    ("", "nir_length"),
    ("2951099126111933", "nir_length"),
    ("29510991261119A", "nir_characters"),
    ("253072C07300470", "nir_characters"),
    ("595109912611193", "nir_sex"),
    ("295159912611193", "nir_month"),
])
def test_errors_say_what_is_wrong(value: str, reason: str) -> None:
    with pytest.raises(InvalidNIR) as info:
        nir.parse_nir(value)
    assert info.value.reason == reason


def test_parts_and_corsica() -> None:
    a = nir.parse_nir("253072A07300443")
    assert (a.sex, a.birth_year, a.birth_month, a.department, a.commune, a.order, a.key) == \
        ("F", "53", 7, "2A", "073", "004", "43")
    assert nir.parse_nir("295109912611193").born_abroad
    assert nir.parse_nir("2 69 05 49 588 157 80").formatted == "2 69 05 49 588 157 80"
    assert nir.parse_nir("269054958815780").to_dict()["formatted"] == "2 69 05 49 588 157 80"


def test_not_a_string() -> None:
    with pytest.raises(InvalidNIR):
        nir.validate(269054958815780)  # type: ignore[arg-type]


digits13 = st.builds(lambda s, r: s + r, st.sampled_from("12"),
                     st.from_regex(r"\A[0-9]{2}(0[1-9]|1[0-2])[0-9]{8}\Z"))


@settings(max_examples=200, deadline=None)
@given(body=digits13, pos=st.integers(0, 14), delta=st.integers(1, 9))
def test_any_single_digit_error_is_caught(body: str, pos: int, delta: int) -> None:
    value = body + nir.calc_check_digits(body)
    assert nir.is_valid(value)
    wrong = value[:pos] + str((int(value[pos]) + delta) % 10) + value[pos + 1:]
    assert not nir.is_valid(wrong)


def test_find_in_ocr_text() -> None:
    assert nir.find_nirs("NOM DURAND\n2 69 05 49 588 157 80\n1 23 45 67") == ["269054958815780"]
    assert nir.find_nirs("2 69 05 49 588 157 81") == []
