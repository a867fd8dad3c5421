"""Printed CNIe fields, carte Vitale, cross-checks and the OCR CLI (real Tesseract on synthetic cards)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest

import idverify
from idverify.cli import main
from idverify.document.layout import CardType, Side
from idverify.ocr.crosscheck import cross_check, expiry_check, fold, names_match
from idverify.ocr.mrz import compose_mrz, parse_mrz
from idverify.ocr.printed import read_printed_fields

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
cards = pytest.importorskip("idverify.synth.cards")
persona_mod = pytest.importorskip("idverify.synth.persona")


def _persona(seed: int):  # type: ignore[no-untyped-def]
    return persona_mod.make_persona(np.random.default_rng(seed))


def test_printed_recto_and_verso_keep_accents() -> None:
    p = _persona(0)
    recto = cards.render_card(p, CardType.CNIE_2021, Side.RECTO)
    f = read_printed_fields(recto.image, "cnie_2021", "recto")
    truth = cards.printed_fields(p, CardType.CNIE_2021, Side.RECTO)
    for name in ("surname", "given_names", "sex", "nationality", "birth_date", "expiry_date", "card_access_number"):
        assert f.fields[name] == truth[name], (name, f.fields[name], truth[name])
    assert f.values["birth_date"] == p.birth_date and f.details["engine"]
    verso = cards.render_card(p, CardType.CNIE_2021, Side.VERSO)
    v = read_printed_fields(verso.image, "cnie_2021", "verso")
    assert v.values["issue_date"] == p.cnie_issue_date and v.values["height_cm"] == p.height_cm
    assert v.to_dict()["side"] == "verso"


def test_document_number_of_the_wrong_length_is_read_again() -> None:
    """Orchestration with a fake engine: a line read with a doubled glyph (10 characters for the CNIe's 9) is
    read again larger, then as one word, and the first read of the right length is kept; a read of the right
    length, or of a field without a fixed length, is read once."""
    from idverify.ocr import engine as ocr_engine

    reads: list[tuple[int, int]] = []  # (page segmentation mode, zone image height)
    answers: dict[tuple[int, int], str] = {}

    class Fake:
        name, version = "fake", "1"

        def recognize(self, gray: np.ndarray, *, lang: str = "fra", psm: int = 7, whitelist: str | None = None) -> str:
            reads.append((psm, gray.shape[0]))
            rank = sum(1 for p, _ in reads if p == psm)  # the n-th read in this mode
            return answers.get((psm, rank), "A2PO08L9S7" if psm == 7 else "")

    recto = cards.render_card(_persona(0), CardType.CNIE_2021, Side.RECTO)
    previous = ocr_engine.default_engine()
    ocr_engine.set_default_engine(Fake())
    try:
        answers.update({(7, 3): "A2P08L9S7", (8, 1): "A2POBLOST"})  # right at the second larger read
        f = read_printed_fields(recto.image, "cnie_2021", "recto", names=["document_number"])
        assert f.fields["document_number"] == "A2P08L9S7" and [p for p, _ in reads] == [7, 7, 7]
        assert reads[0][1] < reads[1][1] < reads[2][1]  # 1.25 then 1.5 times the zone image
        reads.clear()
        answers.clear()
        answers[(8, 1)] = "A2POBL9S7"  # every line read doubles the glyph: the word read
        f = read_printed_fields(recto.image, "cnie_2021", "recto", names=["document_number"])
        assert f.fields["document_number"] == "A2POBL9S7" and [p for p, _ in reads] == [7, 7, 7, 8]
        reads.clear()
        read_printed_fields(recto.image, "cnie_2021", "recto", names=["surname"])
        assert [p for p, _ in reads] == [7]  # no format to check: read once
    finally:
        ocr_engine.set_default_engine(previous)


def test_printed_fields_usage_error() -> None:
    with pytest.raises(idverify.UsageError):
        read_printed_fields(np.zeros((638, 1011, 3), np.uint8), "cnie_2021", "recto", names=["nope"])


def test_carte_vitale_flat_render() -> None:
    p = _persona(3)
    card = cards.render_card(p, CardType.CARTE_VITALE, Side.RECTO)
    r = idverify.read_carte_vitale(card.image)
    assert r.nir == p.nir and r.reason is None
    assert fold(r.surname or "") == fold(p.surname)
    assert r.to_dict()["nir_parts"]["key"] == p.nir[-2:]


def test_carte_vitale_without_nir_is_a_result() -> None:
    r = idverify.read_carte_vitale(np.full((505, 800, 3), 230, np.uint8))
    assert r.nir is None and r.reason == "nir_not_found"


@pytest.mark.skipif(not DATA.is_dir(), reason="needs ../shared/data")
def test_carte_vitale_real_specimen() -> None:
    r = idverify.read_carte_vitale(DATA / "mindee_client_lib_test_data" / "carte_vitale" / "default_sample.jpg")
    assert r.formatted == "2 69 05 49 588 157 80" and r.surname == "DURAND" and r.given_names == "NATHALIE"


def _mrz(**over: str) -> list[str]:
    args = dict(document_number="X4RTBPFW4", surname="MARTIN", given_names="MAELYS GAELLE MARIE",
                birth_date="1990-07-13", sex="F", expiry_date="2030-02-11")
    args.update(over)
    return compose_mrz("TD1", **args)


def _by_name(checks: list) -> dict:  # type: ignore[type-arg]
    return {c.name: c for c in checks}


def test_cross_checks_pass_on_consistent_data() -> None:
    mrz = parse_mrz(_mrz())
    printed = {"surname": "MARTIN", "given_names": "Maëlys-Gaëlle, Marie", "sex": "F", "birth_date": "13 07 1990",
               "expiry_date": "11 02 2030", "document_number": "X4RTBPFW4"}
    checks = cross_check(mrz, printed, nir="290077511234567"[:13] + "00", account_names=("Maëlys", "Martin"),
                         today=dt.date(2026, 1, 1))
    by = _by_name(checks)
    assert by["nir_valid"].reason == "nir_key"  # a wrong key is reported, not raised
    from idverify.ocr.nir import calc_check_digits
    nir = "2900775112345"
    checks = cross_check(mrz, printed, nir=nir + calc_check_digits(nir), account_names=("Maëlys", "Martin"),
                         today=dt.date(2026, 1, 1))
    assert all(c.passed for c in checks), [c.to_dict() for c in checks if not c.passed]
    assert {"printed_surname_vs_mrz", "printed_given_names_vs_mrz", "printed_birth_date_vs_mrz",
            "printed_sex_vs_mrz", "printed_document_number_vs_mrz", "printed_expiry_date_vs_mrz",
            "document_not_expired", "nir_sex_vs_mrz", "nir_birth_vs_mrz", "account_names_vs_document"} <= \
        set(_by_name(checks))


def test_cross_checks_catch_each_mismatch() -> None:
    mrz = parse_mrz(_mrz())
    printed = {"surname": "DURAND", "given_names": "Maëlys", "sex": "M", "birth_date": "14 07 1990",
               "document_number": "X4RTBPFW5"}
    from idverify.ocr.nir import calc_check_digits
    nir = "1910775112345"  # a man born in July 1991
    by = _by_name(cross_check(mrz, printed, nir=nir + calc_check_digits(nir), account_names="Paul Dupont",
                              today=dt.date(2031, 1, 1)))
    expected = {"printed_surname_vs_mrz": "mrz_surname_mismatch", "printed_sex_vs_mrz": "mrz_sex_mismatch",
                "printed_birth_date_vs_mrz": "mrz_birth_date_mismatch",
                "printed_document_number_vs_mrz": "mrz_document_number_mismatch",
                "document_not_expired": "document_expired", "nir_sex_vs_mrz": "nir_sex_mismatch",
                "nir_birth_vs_mrz": "nir_birth_mismatch", "account_names_vs_document": "account_name_mismatch"}
    for name, reason in expected.items():
        assert not by[name].passed and by[name].reason == reason, name
    assert by["printed_given_names_vs_mrz"].reason == "mrz_given_names_mismatch"


def test_nir_unknown_month_is_not_compared() -> None:
    from idverify.ocr.nir import calc_check_digits
    nir = "2903075112345"  # month 30: unknown
    by = _by_name(cross_check(parse_mrz(_mrz()), nir=nir + calc_check_digits(nir), today=dt.date(2026, 1, 1)))
    assert by["nir_birth_vs_mrz"].passed and not by["nir_birth_vs_mrz"].evidence["month_compared"]


def test_old_card_expiry_rules() -> None:
    def old(issue: str, birth: str) -> object:
        return parse_mrz(compose_mrz("FRA_CNI_1995", document_number=issue + "75" + "0123456", surname="DUPONT",
                                     given_names="JEAN", birth_date=birth, sex="M"))
    adult_2005 = old("0506", "1970-01-01")
    assert expiry_check(adult_2005, today=dt.date(2019, 1, 1)).passed  # > 10 years but < 15
    assert expiry_check(adult_2005, today=dt.date(2020, 6, 2)).reason == "document_expired"
    minor_2005 = old("0506", "1995-01-01")
    assert expiry_check(minor_2005, today=dt.date(2016, 1, 1)).reason == "document_expired"
    adult_2003 = old("0306", "1970-01-01")
    assert expiry_check(adult_2003, today=dt.date(2014, 1, 1)).reason == "document_expired"
    # the printed issue date wins over the MRZ month
    c = expiry_check(adult_2005, {"issue_date": "2005-06-20"}, today=dt.date(2020, 6, 10))
    assert c.passed and c.evidence["expiry_date"] == "2020-06-19"


def test_name_rules() -> None:
    assert names_match("Lefèvre", "LEFEVRE") == (True, 1.0)
    assert names_match("Jean-Christophe", "JEAN CHRIS", truncated=True)[0]
    assert not names_match("Jean-Christophe", "JEAN CHRIS", truncated=False)[0]
    assert not names_match("Martin", "DURAND")[0]


def test_cli_nir_and_mrz(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["nir", "2 53 07 2B 073 004 70", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["department"] == "2B"
    assert main(["nir", "295109912611199", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["reason"] == "nir_key"
    card = cards.render_card(_persona(1), CardType.CNIE_2021, Side.VERSO)
    from PIL import Image
    Image.fromarray(card.image).save(tmp_path / "verso.png")
    assert main(["mrz", str(tmp_path / "verso.png"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["format"] == "TD1"
    (tmp_path / "bad.jpg").write_bytes(b"\xff\xd8\xffgarbage")
    assert main(["mrz", str(tmp_path / "bad.jpg"), "--json"]) == 2
    assert main(["vitale", str(tmp_path / "missing.jpg")]) == 2


def test_vitale_name_lines() -> None:
    from idverify.ocr.vitale import _names_above

    text = "émise le 01/01/2007\nMAËLYS\nLE MAÎTRE Date de dé\n2 67 08 49 007 083 76\nSPECIMEN"
    assert _names_above(text, "267084900708376") == ("MAËLYS", "LE MAÎTRE")
    assert _names_above("DURAND\n2 69 05 49 588 157 80", "269054958815780") == ("DURAND", None)
    assert _names_above("no names here\n2 69 05 49 588 157 80", "269054958815780") == (None, None)
