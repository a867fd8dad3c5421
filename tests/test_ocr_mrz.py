"""MRZ parsing, validation and repair: vectors, properties (hypothesis), bad input."""

from __future__ import annotations

import datetime as dt
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idverify.ocr import checkdigit
from idverify.ocr.checkdigit import char_value
from idverify.ocr.mrz import LAYOUTS, compose_mrz, parse_mrz, single_substitutions

TD3 = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"]
TD1 = ["IDFRAX4RTBPFW46<<<<<<<<<<<<<<<", "9007138F3002119FRA<<<<<<<<<<<6", "MARTIN<<MAELYS<GAELLE<MARIE<<<"]
TD2 = ["I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "D231458907UTO7408122F1204159<<<<<<<6"]
CNI95 = ["IDFRABERTHIER<<<<<<<<<<<<<<<<<<<<<<<", "9409923102854CORINNE<<<<<<<6512068F4"]
CNI95_FAKE = ["IDFRADURAND<<<<<<<<<<<<<<<<<<<<75000", "012345678987ANTOINE<<PAUL<<1234567A1"]
TODAY = dt.date(2026, 1, 1)


def test_design_vectors() -> None:
    assert [checkdigit.calc_check_digit(x) for x in ("L898902C3", "740812", "120415", "ZE184226B<<<<<")] == \
        ["6", "2", "9", "1"]
    r = parse_mrz(TD3, today=TODAY)
    assert r.valid and r.format == "TD3" and dict(r.checks) == {
        "document_number": True, "birth_date": True, "expiry_date": True, "optional_data": True, "composite": True}
    f = r.fields
    assert (f["document_number"], f["surname"], f["given_names"], f["sex"], f["nationality"], f["issuing_state"]) == \
        ("L898902C3", "ERIKSSON", "ANNA MARIA", "F", "UTO", "UTO")


@pytest.mark.parametrize(("lines", "fmt"), [(TD1, "TD1"), (TD2, "TD2"), (TD3, "TD3"), (CNI95, "FRA_CNI_1995")])
def test_formats_and_contract_fields(lines: list[str], fmt: str) -> None:
    r = parse_mrz(lines, today=TODAY)
    assert r.found and r.valid and r.format == fmt and r.reason is None
    for key in ("document_number", "surname", "given_names", "birth_date", "sex", "expiry_date", "nationality",
                "issuing_state"):
        assert key in r.fields
    assert r.to_dict()["lines"] == lines


def test_old_french_card_is_not_td2() -> None:
    r = parse_mrz(CNI95, today=TODAY)
    assert r.fields["surname"] == "BERTHIER" and r.fields["given_names"] == "CORINNE"
    assert r.fields["document_number"] == "940992310285" and r.fields["expiry_date"] is None
    assert r.fields["issue_month"] == "1994-09"


def test_specimen_with_wrong_check_digits_stays_invalid() -> None:
    r = parse_mrz(CNI95_FAKE, today=TODAY)
    assert r.format == "FRA_CNI_1995" and not r.valid and r.reason == "mrz_check_digit"
    assert not any(r.checks.values())
    # a printed wrong check digit is never "repaired", even when the reader offers alternatives
    wrong = [TD3[0], TD3[1][:9] + "7" + TD3[1][10:]]
    alts = {(1, i): "0O8B5S1I2Z" for i in range(9)}
    r = parse_mrz(wrong, alternatives=alts, today=TODAY)
    assert not r.valid and not r.checks["document_number"]


def test_confusion_repairs_only_when_confirmed() -> None:
    # letter for digit in a date: forced by the position type, confirmed by the check digit
    r = parse_mrz([TD3[0], TD3[1].replace("7408122", "74O8122")], today=TODAY)
    assert r.valid and [(x.old, x.new, x.field) for x in r.repairs] == [("O", "0", "birth_date")]
    # a digit the reader was unsure of, where the composite confirms independently (TD3 birth date)
    bad = [TD3[0], TD3[1].replace("7408122", "7468122")]
    assert not parse_mrz(bad, today=TODAY).valid
    assert not parse_mrz(bad, alternatives={(1, 14): "3"}, today=TODAY).valid  # not the right cell
    r = parse_mrz(bad, alternatives={(1, 15): "0"}, today=TODAY)
    assert r.valid and r.lines == TD3 and r.repairs[0].confirmed_by == "birth_date+composite"
    # never in a document number: the composite adds nothing to its own check digit there
    bad = [TD3[0], "L8989O2C36" + TD3[1][10:]]
    assert not parse_mrz(bad, alternatives={(1, 5): "0"}, today=TODAY).valid
    # K read for < in the names' filler run is put back; a K that may be a name is not
    r = parse_mrz([TD1[0], TD1[1], "MARTIN<<MAELYS<GAELLE<MARIE<KK"], today=TODAY)
    assert r.fields["given_names"] == "MAELYS GAELLE MARIE KK" and not r.repairs  # "<KK" may be a name
    r = parse_mrz([TD1[0], TD1[1], "MARTIN<<MAELYS<GAELLE<MARIE<<K"], today=TODAY)
    assert r.fields["given_names"] == "MAELYS GAELLE MARIE" and r.repairs[0].confirmed_by == "filler_run"
    r = parse_mrz([TD1[0].replace("<<<<<<<<<<<<<<<", "<<<<<K<<<<<<<<<"), TD1[1], TD1[2]], today=TODAY)
    assert r.valid and r.lines == TD1


@pytest.mark.parametrize("lines", [TD1, TD2, TD3, CNI95])
def test_no_single_substitution_is_repaired_into_another_valid_reading(lines: list[str]) -> None:
    """Exhaustive: every single-character change is either caught or (rarely) repaired back, never
    turned into a different valid MRZ; the only misses are the check digit's blind spot (value
    changes that are multiples of 10, e.g. 0/A/K/U/< and C/M/W) or fields no check covers."""
    fmt = parse_mrz(lines).format
    assert fmt is not None
    layout = LAYOUTS[fmt]
    protected = {(ln, i) for spans, (cl, cp) in layout.checks.values() for ln, s, e in spans for i in range(s, e)}
    protected |= {c for _s, c in layout.checks.values()}
    for ln, i, c in single_substitutions(lines):
        corrupted = list(lines)
        corrupted[ln] = lines[ln][:i] + c + lines[ln][i + 1:]
        r = parse_mrz(corrupted, today=TODAY)
        if r.valid and r.lines != lines:
            blind = (char_value(c) - char_value(lines[ln][i])) % 10 == 0
            assert blind or (ln, i) not in protected, (ln, i, c)
            assert not r.repairs or all(x.confirmed_by == "filler_run" for x in r.repairs)


_ALNUM = string.ascii_uppercase + string.digits
names = st.text(alphabet=string.ascii_uppercase, min_size=1, max_size=10)
dates = st.dates(min_value=dt.date(1931, 1, 1), max_value=dt.date(2025, 12, 31))
expiries = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2060, 12, 31))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fmt=st.sampled_from(["TD1", "TD2", "TD3"]), number=st.text(alphabet=_ALNUM, min_size=9, max_size=9),
       surname=names, given=st.lists(names, min_size=1, max_size=2), birth=dates, expiry=expiries,
       sex=st.sampled_from("MF"))
def test_any_generated_icao_mrz_round_trips(fmt: str, number: str, surname: str, given: list[str], birth: dt.date,
                                            expiry: dt.date, sex: str) -> None:
    lines = compose_mrz(fmt, document_number=number, surname=surname, given_names=" ".join(given),
                        birth_date=birth.isoformat(), sex=sex, expiry_date=expiry.isoformat())
    r = parse_mrz(lines, today=dt.date(2026, 1, 1))
    assert r.valid and r.format == fmt and not r.repairs, r.to_dict()
    f = r.fields
    assert (f["document_number"], f["birth_date"], f["expiry_date"], f["sex"]) == \
        (number, birth.isoformat(), expiry.isoformat(), sex)
    if not f["names_truncated"]:
        assert (f["surname"], f["given_names"]) == (surname, " ".join(given))


@settings(max_examples=150, deadline=None)
@given(number=st.text(alphabet=string.digits, min_size=12, max_size=12), surname=names, given=names, birth=dates,
       sex=st.sampled_from("MF"))
def test_any_generated_old_french_card_round_trips(number: str, surname: str, given: str, birth: dt.date,
                                                   sex: str) -> None:
    lines = compose_mrz("FRA_CNI_1995", document_number=number, surname=surname, given_names=given,
                        birth_date=birth.isoformat(), sex=sex)
    r = parse_mrz(lines, today=dt.date(2026, 1, 1))
    assert r.valid and r.format == "FRA_CNI_1995"
    assert (r.fields["document_number"], r.fields["surname"], r.fields["birth_date"]) == \
        (number, surname, birth.isoformat())


@settings(max_examples=300, deadline=None)
@given(data=st.data(), fmt=st.sampled_from(["TD1", "TD3", "FRA_CNI_1995"]))
def test_any_single_corruption_of_a_protected_field_is_detected(data: st.DataObject, fmt: str) -> None:
    lines = {"TD1": TD1, "TD3": TD3, "FRA_CNI_1995": CNI95}[fmt]
    layout = LAYOUTS[fmt]
    cells = sorted({(ln, i) for spans, _c in layout.checks.values() for ln, s, e in spans for i in range(s, e)}
                   | {c for _s, c in layout.checks.values()})
    ln, i = data.draw(st.sampled_from(cells))
    old = lines[ln][i]
    # the 7-3-1 check digit cannot see a change of value by a multiple of 10 (e.g. 0 <-> A <-> K <-> U)
    new = data.draw(st.sampled_from([c for c in _ALNUM + "<" if (char_value(c) - char_value(old)) % 10]))
    corrupted = list(lines)
    corrupted[ln] = lines[ln][:i] + new + lines[ln][i + 1:]
    assert not parse_mrz(corrupted, repair=False, today=TODAY).valid
    repaired = parse_mrz(corrupted, today=TODAY)
    assert not repaired.valid or repaired.lines == lines


@pytest.mark.parametrize("text", ["", "hello", "P<UTO\nL898", "\n\n", "ÀÉ" * 30, "<" * 30 + "\n" + "<" * 30])
def test_bad_input_is_a_result_not_an_exception(text: str) -> None:
    r = parse_mrz(text)
    assert not r.valid and r.reason in ("mrz_not_found", "mrz_format_unknown", "mrz_characters",
                                        "mrz_check_digit", "mrz_date_invalid", "mrz_field_invalid")


def test_bad_characters_reported() -> None:
    r = parse_mrz([TD3[0], TD3[1].replace("L898", "L8#8")])
    assert not r.valid and r.reason == "mrz_characters"
