"""Consistency checks between the MRZ, the printed fields, the NIR and the account holder.

Every check is a :class:`~idverify.results.Check` with a reason code when it
fails; checks that have nothing to compare (no printed field, no NIR, no
account) are simply not emitted, except that an unreadable printed field the
check needs gives ``printed_field_unreadable``.

Names are compared accent-folded and letters-only (ICAO transliteration drops
accents, hyphens and apostrophes become ``<`` or disappear), with the MRZ's
truncation rule: a full name field may hold only the beginning of the name.

>>> fold("Maëlys-Gaëlle, Marie")
'MAELYS GAELLE MARIE'
>>> names_match("Lefèvre-D'Arco", "LEFEVRE<DARCO".replace("<", " "))
(True, 1.0)
>>> names_match("Jean-Christophe Emmanuel", "JEAN CHRISTOP", truncated=True)
(True, 1.0)
"""

from __future__ import annotations

import datetime as dt
import difflib
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from idverify.config import OCR
from idverify.errors import InvalidNIR
from idverify.ocr.mrz import MRZResult
from idverify.ocr.nir import NIR, parse_nir
from idverify.ocr.printed import PrintedFields, parse_date_fr
from idverify.results import Check

_SPECIAL = {"Æ": "AE", "Œ": "OE", "ß": "SS", "Ø": "O", "Ð": "D", "Þ": "TH"}
_CONFUSABLE = str.maketrans({"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "Z": "2", "S": "5", "B": "8",
                             "G": "6"})


def fold(text: str) -> str:
    """Upper case, accents removed, anything but letters and digits a single space."""
    text = "".join(_SPECIAL.get(c, c) for c in text.upper())
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join("".join(c if c.isalnum() else " " for c in text).split())


def _letters(text: str) -> str:
    return fold(text).replace(" ", "")


def names_match(printed: str, mrz: str, *, truncated: bool = False,
                threshold: float | None = None) -> tuple[bool, float]:
    """(match, similarity) of a printed name and its MRZ form (letters only, accents folded).

    With ``truncated`` (the MRZ name field is full), the MRZ may hold only
    the beginning of the printed name.
    """
    threshold = OCR.name_similarity if threshold is None else threshold
    a, b = _letters(printed), _letters(mrz)
    if not a or not b:
        return False, 0.0
    if a == b or (truncated and a.startswith(b)):
        return True, 1.0
    if truncated and len(a) > len(b):
        a = a[:len(b)]
    score = difflib.SequenceMatcher(None, a, b).ratio()
    return score >= threshold, round(score, 3)


def _merge_printed(printed: PrintedFields | Mapping[str, Any] | Sequence[PrintedFields] | None
                   ) -> tuple[dict[str, str], dict[str, Any]]:
    fields: dict[str, str] = {}
    values: dict[str, Any] = {}
    if printed is None:
        return fields, values
    items: Sequence[Any] = printed if isinstance(printed, (list, tuple)) else [printed]
    for item in items:
        if isinstance(item, PrintedFields):
            fields.update({k: v for k, v in item.fields.items() if v})
            values.update({k: v for k, v in item.values.items() if v is not None})
        elif isinstance(item, Mapping):
            fields.update({str(k): str(v) for k, v in item.items() if v})
    for name in ("birth_date", "expiry_date", "issue_date"):
        if name in fields and name not in values:
            values[name] = parse_date_fr(fields[name]) or (fields[name] if _is_iso(fields[name]) else None)
    return fields, values


def _is_iso(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _mrz_check(mrz: MRZResult) -> Check:
    return Check("mrz_valid", mrz.valid, None if mrz.valid else (mrz.reason or "mrz_invalid"),
                 evidence={"format": mrz.format, "checks": dict(mrz.checks),
                           "repairs": [r.to_dict() for r in mrz.repairs]})


def _printed_vs_mrz(mrz: MRZResult, fields: dict[str, str], values: dict[str, Any]) -> list[Check]:
    out: list[Check] = []
    f = mrz.fields
    truncated = f.get("names_truncated")
    trunc_surname = truncated.get("surname") if isinstance(truncated, Mapping) else bool(truncated)
    trunc_given = truncated.get("given_names") if isinstance(truncated, Mapping) else bool(truncated)

    def unreadable(name: str, field: str) -> Check:
        return Check(name, False, "printed_field_unreadable", evidence={"field": field})

    for field, reason, trunc in (("surname", "mrz_surname_mismatch", trunc_surname),
                                 ("given_names", "mrz_given_names_mismatch", trunc_given)):
        name = f"printed_{field}_vs_mrz"
        if field not in fields:
            continue
        if not fields[field]:
            out.append(unreadable(name, field))
            continue
        ok, score = names_match(fields[field], str(f.get(field) or ""), truncated=bool(trunc))
        out.append(Check(name, ok, None if ok else reason, score=score, threshold=OCR.name_similarity,
                         evidence={"printed": fields[field], "mrz": f.get(field), "mrz_truncated": bool(trunc)}))
    for field, reason in (("birth_date", "mrz_birth_date_mismatch"), ("expiry_date", "mrz_expiry_mismatch")):
        if field not in fields or f.get(field) is None:
            continue
        name = f"printed_{field}_vs_mrz"
        printed_iso = values.get(field)
        if not printed_iso:
            out.append(unreadable(name, field))
            continue
        ok = printed_iso == f.get(field)
        out.append(Check(name, ok, None if ok else reason, evidence={"printed": printed_iso, "mrz": f.get(field)}))
    if "sex" in fields:
        printed_sex = (values.get("sex") or fields["sex"][:1]).upper()
        ok = printed_sex == f.get("sex")
        out.append(Check("printed_sex_vs_mrz", ok, None if ok else "mrz_sex_mismatch",
                         evidence={"printed": printed_sex, "mrz": f.get("sex")}))
    if "document_number" in fields:
        printed_no = fold(fields["document_number"]).replace(" ", "")
        mrz_no = str(f.get("document_number") or "")
        exact = printed_no == mrz_no
        ok = exact or printed_no.translate(_CONFUSABLE) == mrz_no.translate(_CONFUSABLE)
        out.append(Check("printed_document_number_vs_mrz", ok, None if ok else "mrz_document_number_mismatch",
                         evidence={"printed": printed_no, "mrz": mrz_no, "exact": exact}))
    return out


def expiry_check(mrz: MRZResult, values: Mapping[str, Any] | None = None, today: dt.date | None = None) -> Check:
    """Is the document still valid today?

    CNIe and ICAO documents: the MRZ expiry (else the printed one). Old French
    card: no expiry in the MRZ; from the issue date (printed on the verso,
    else the MRZ's issue month, taking its 1st day) adults' cards issued from
    2004-01-02 are valid 15 years, other cards 10 years.
    """
    today = today or dt.date.today()
    values = values or {}
    f = mrz.fields
    evidence: dict[str, Any] = {"today": today.isoformat()}
    if mrz.format == "FRA_CNI_1995":
        issue: dt.date | None = None
        if values.get("issue_date"):
            issue = dt.date.fromisoformat(values["issue_date"])
            evidence["issue_date"] = values["issue_date"]
        elif f.get("issue_month"):
            issue = dt.date.fromisoformat(f["issue_month"] + "-01")
            evidence["issue_date"] = f"{f['issue_month']} (day unknown, 1st assumed)"
        birth = f.get("birth_date")
        if issue is None or not birth:
            return Check("document_not_expired", False, "expiry_unknown", evidence=evidence)
        adult = _add_years(dt.date.fromisoformat(birth), 18) <= issue
        years = OCR.adult_card_years if adult and issue >= dt.date(2004, 1, 2) else OCR.minor_card_years
        expiry = _add_years(issue, years) - dt.timedelta(days=1)
        evidence.update({"rule": f"{'adult' if adult else 'minor'} at issue, {years} years", "expiry_date":
                         expiry.isoformat()})
    else:
        iso = f.get("expiry_date") or values.get("expiry_date")
        if not iso:
            return Check("document_not_expired", False, "expiry_unknown", evidence=evidence)
        expiry = dt.date.fromisoformat(iso)
        evidence["expiry_date"] = iso
    ok = today <= expiry
    return Check("document_not_expired", ok, None if ok else "document_expired", score=(expiry - today).days,
                 threshold=0, evidence=evidence)


def nir_checks(mrz: MRZResult, nir: NIR | str) -> list[Check]:
    """NIR ↔ MRZ: sex, birth year, birth month (unless the NIR's month says "unknown")."""
    try:
        value = nir if isinstance(nir, NIR) else parse_nir(nir)
    except InvalidNIR as exc:
        return [Check("nir_valid", False, exc.reason, evidence={"message": exc.message})]
    f = mrz.fields
    out = [Check("nir_valid", True)]
    if value.sex and f.get("sex") in ("M", "F") and value.value[0] in "12":
        ok = value.sex == f.get("sex")
        out.append(Check("nir_sex_vs_mrz", ok, None if ok else "nir_sex_mismatch",
                         evidence={"nir": value.sex, "mrz": f.get("sex")}))
    birth = f.get("birth_date")
    if birth:
        year_ok = birth[2:4] == value.birth_year
        month_ok = value.birth_month is None or int(birth[5:7]) == value.birth_month
        ok = year_ok and month_ok
        out.append(Check("nir_birth_vs_mrz", ok, None if ok else "nir_birth_mismatch",
                         evidence={"nir_year": value.birth_year, "nir_month": value.birth_month,
                                   "mrz_birth_date": birth, "month_compared": value.birth_month is not None}))
    return out


def account_check(account_names: Mapping[str, Any] | Sequence[str] | str, mrz: MRZResult,
                  fields: Mapping[str, str] | None = None) -> Check:
    """The account holder's names against the card (printed names when read, else the MRZ).

    ``account_names``: ``{"surname": ..., "given_names": ...}`` (given names a
    string or a list), a ``(given_names, surname)`` pair, or "Given Surname".
    The surname may also match the printed usage name (nom d'usage); one of
    the account's given names must be among the card's.
    """
    fields = fields or {}
    if isinstance(account_names, Mapping):
        surname = str(account_names.get("surname") or "")
        given_raw = account_names.get("given_names") or ""
        given = " ".join(given_raw) if isinstance(given_raw, (list, tuple)) else str(given_raw)
    elif isinstance(account_names, str):
        parts = account_names.split()
        surname, given = (parts[-1] if parts else ""), " ".join(parts[:-1])
    else:
        given, surname = str(account_names[0]), str(account_names[1])
    card_surnames = [s for s in (fields.get("surname"), mrz.fields.get("surname")) if s]
    usage = fields.get("usage_name", "")
    if usage:
        card_surnames.append(usage.replace("ép.", "").replace("ÉP.", "").strip())
    card_given = fields.get("given_names") or str(mrz.fields.get("given_names") or "")
    scores = [names_match(surname, s)[1] for s in card_surnames] or [0.0]
    surname_score = max(scores)
    card_given_words = set(fold(card_given).split())
    account_given_words = fold(given).split()
    given_ok = not account_given_words or any(w in card_given_words for w in account_given_words) or (
        names_match(given, card_given, truncated=True)[0])
    ok = surname_score >= OCR.name_similarity and given_ok
    return Check("account_names_vs_document", ok, None if ok else "account_name_mismatch", score=surname_score,
                 threshold=OCR.name_similarity,
                 evidence={"account": {"surname": surname, "given_names": given},
                           "document": {"surnames": card_surnames, "given_names": card_given},
                           "given_names_match": given_ok})


def cross_check(mrz_result: MRZResult, printed_fields: PrintedFields | Mapping[str, Any] |
                Sequence[PrintedFields] | None = None, nir: NIR | str | None = None,
                account_names: Mapping[str, Any] | Sequence[str] | str | None = None,
                today: dt.date | None = None) -> list[Check]:
    """All the consistency checks that the inputs allow, in a fixed order.

    ``printed_fields`` is what :func:`idverify.ocr.printed.read_printed_fields`
    returned for the recto (and verso), or a mapping field -> printed text.
    """
    checks = [_mrz_check(mrz_result)]
    if not mrz_result.found or mrz_result.format is None:
        return checks
    fields, values = _merge_printed(printed_fields)
    checks += _printed_vs_mrz(mrz_result, fields, values)
    checks.append(expiry_check(mrz_result, values, today))
    if nir is not None:
        checks += nir_checks(mrz_result, nir)
    if account_names is not None:
        checks.append(account_check(account_names, mrz_result, fields))
    return checks
