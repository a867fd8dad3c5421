"""MRZ parsing, validation and check-digit-confirmed repair.

Formats: ICAO 9303 ``TD1`` (3 x 30), ``TD2`` (2 x 36), ``TD3`` (2 x 44), the
visas ``MRV_A`` (2 x 44) and ``MRV_B`` (2 x 36), and the French identity
card of 1995-2021 ``FRA_CNI_1995`` (2 x 36, *not* the TD2 field order, no
expiry in the MRZ).

Repairs are made only where a check digit confirms them: the field's own
check digit must go from wrong to right with exactly one candidate, a check
digit is never changed into another digit, and when a composite check covers
the field it must be right afterwards. Two kinds of candidates exist:

* a letter in a digits-only position (dates, check digits) read for the one
  digit it resembles (O/Q/D/U→0, I/L→1, Z→2, S→5, G→6, B→8);
* in alphanumeric fields (document number, optional data), only a position
  the glyph reader was unsure of, replaced by its runner-up (``alternatives``),
  and only where a composite check confirms it independently (the field sits
  in the composite with another 7-3-1 phase). Document numbers of TD1, TD3
  and the old card sit in phase, so one check digit would be the only
  confirmation (a 1 in 10 chance of "validating" a wrong change): they are
  left to the second reader (Tesseract) instead.
  From plain text nothing tells where an O/0 confusion is, and a blind search
  over every confusable position "validates" a wrong reading about as often
  as the right one (tests/test_ocr_mrz.py measures it), so it is not done.

A document printed with a wrong check digit stays invalid. ``K`` for ``<``
cannot be confirmed by any check digit (their values differ by 20): it is
turned back into ``<`` only inside an unambiguous filler run (the tail of a
name after the given names, or a run of fillers in optional data). Names
carry no check digit and are never changed otherwise.

>>> r = parse_mrz(["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
...                "L898902C36UTO7408122F1204159ZE184226B<<<<<10"])
>>> r.format, r.valid, r.fields["birth_date"], r.fields["expiry_date"], r.fields["given_names"]
('TD3', True, '1974-08-12', '2012-04-15', 'ANNA MARIA')
>>> r = parse_mrz("IDFRAX4RTBPFW46<<<<<<<<<<<<<<<\\n9007138F3002119FRA<<<<<<<<<<<6\\nMARTIN<<MAELYS<GAELLE<MARIE<<<")
>>> r.format, r.valid, r.fields["document_number"], r.fields["surname"], r.fields["expiry_date"]
('TD1', True, 'X4RTBPFW4', 'MARTIN', '2030-02-11')

An ``O`` read for a ``0`` in the document number is repaired because the
check digit and the composite both confirm it:

>>> r = parse_mrz(["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
...                "L898902C36UTO74O8122F1204159ZE184226B<<<<<10"])
>>> r.valid, [(x.field, x.old, x.new) for x in r.repairs]
(True, [('birth_date', 'O', '0')])

The old French card (expiry is not in the MRZ):

>>> r = parse_mrz(["IDFRABERTHIER<<<<<<<<<<<<<<<<<<<<<<<", "9409923102854CORINNE<<<<<<<6512068F4"])
>>> r.format, r.valid, r.fields["given_names"], r.fields["birth_date"], r.fields["expiry_date"]
('FRA_CNI_1995', True, 'CORINNE', '1965-12-06', None)
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from idverify.ocr.checkdigit import calc_check_digit, check_ok
from idverify.results import frozen_mapping, to_jsonable

MRZ_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<")

# OCR confusions between glyphs of OCR-B (both directions are tried).
CONFUSIONS: Mapping[str, str] = {
    "O": "0Q", "0": "OQD", "Q": "O0", "D": "0",
    "I": "1", "1": "I", "B": "8", "8": "B", "S": "5", "5": "S",
    "Z": "2", "2": "Z", "G": "6", "6": "G", "<": "K", "K": "<",
}
# A letter in a digits-only position can only be one digit.
_TO_DIGIT = {"O": "0", "Q": "0", "D": "0", "U": "0", "I": "1", "L": "1", "Z": "2", "S": "5", "G": "6", "B": "8"}

Pos = tuple[int, int, int]  # (line, start, end)


@dataclasses.dataclass(frozen=True, slots=True)
class _Layout:
    shape: tuple[int, int]
    fields: Mapping[str, Pos]
    numeric: tuple[Pos, ...]  # digits-only spans (dates, check digits)
    checks: Mapping[str, tuple[tuple[Pos, ...], tuple[int, int]]]  # name -> (data spans, check position)
    names: tuple[Pos, ...]


def _p(line: int, start: int, end: int) -> Pos:
    return (line, start, end)


LAYOUTS: Mapping[str, _Layout] = {
    "TD1": _Layout(
        (3, 30),
        {"document_type": _p(0, 0, 2), "issuing_state": _p(0, 2, 5), "document_number": _p(0, 5, 14),
         "optional_data": _p(0, 15, 30), "birth_date": _p(1, 0, 6), "sex": _p(1, 7, 8),
         "expiry_date": _p(1, 8, 14), "nationality": _p(1, 15, 18), "optional_data_2": _p(1, 18, 29),
         "names": _p(2, 0, 30)},
        (_p(0, 14, 15), _p(1, 0, 7), _p(1, 8, 15), _p(1, 29, 30)),
        {"document_number": ((_p(0, 5, 14),), (0, 14)),
         "birth_date": ((_p(1, 0, 6),), (1, 6)),
         "expiry_date": ((_p(1, 8, 14),), (1, 14)),
         "composite": ((_p(0, 5, 30), _p(1, 0, 7), _p(1, 8, 15), _p(1, 18, 29)), (1, 29))},
        (_p(2, 0, 30),),
    ),
    "TD2": _Layout(
        (2, 36),
        {"document_type": _p(0, 0, 2), "issuing_state": _p(0, 2, 5), "names": _p(0, 5, 36),
         "document_number": _p(1, 0, 9), "nationality": _p(1, 10, 13), "birth_date": _p(1, 13, 19),
         "sex": _p(1, 20, 21), "expiry_date": _p(1, 21, 27), "optional_data": _p(1, 28, 35)},
        (_p(1, 9, 10), _p(1, 13, 20), _p(1, 21, 28), _p(1, 35, 36)),
        {"document_number": ((_p(1, 0, 9),), (1, 9)),
         "birth_date": ((_p(1, 13, 19),), (1, 19)),
         "expiry_date": ((_p(1, 21, 27),), (1, 27)),
         "composite": ((_p(1, 0, 10), _p(1, 13, 20), _p(1, 21, 35)), (1, 35))},
        (_p(0, 5, 36),),
    ),
    "TD3": _Layout(
        (2, 44),
        {"document_type": _p(0, 0, 2), "issuing_state": _p(0, 2, 5), "names": _p(0, 5, 44),
         "document_number": _p(1, 0, 9), "nationality": _p(1, 10, 13), "birth_date": _p(1, 13, 19),
         "sex": _p(1, 20, 21), "expiry_date": _p(1, 21, 27), "optional_data": _p(1, 28, 42)},
        (_p(1, 9, 10), _p(1, 13, 20), _p(1, 21, 28), _p(1, 42, 44)),
        {"document_number": ((_p(1, 0, 9),), (1, 9)),
         "birth_date": ((_p(1, 13, 19),), (1, 19)),
         "expiry_date": ((_p(1, 21, 27),), (1, 27)),
         "optional_data": ((_p(1, 28, 42),), (1, 42)),
         "composite": ((_p(1, 0, 10), _p(1, 13, 20), _p(1, 21, 43)), (1, 43))},
        (_p(0, 5, 44),),
    ),
    "MRV_A": _Layout(
        (2, 44),
        {"document_type": _p(0, 0, 2), "issuing_state": _p(0, 2, 5), "names": _p(0, 5, 44),
         "document_number": _p(1, 0, 9), "nationality": _p(1, 10, 13), "birth_date": _p(1, 13, 19),
         "sex": _p(1, 20, 21), "expiry_date": _p(1, 21, 27), "optional_data": _p(1, 28, 44)},
        (_p(1, 9, 10), _p(1, 13, 20), _p(1, 21, 28)),
        {"document_number": ((_p(1, 0, 9),), (1, 9)),
         "birth_date": ((_p(1, 13, 19),), (1, 19)),
         "expiry_date": ((_p(1, 21, 27),), (1, 27))},
        (_p(0, 5, 44),),
    ),
    "MRV_B": _Layout(
        (2, 36),
        {"document_type": _p(0, 0, 2), "issuing_state": _p(0, 2, 5), "names": _p(0, 5, 36),
         "document_number": _p(1, 0, 9), "nationality": _p(1, 10, 13), "birth_date": _p(1, 13, 19),
         "sex": _p(1, 20, 21), "expiry_date": _p(1, 21, 27), "optional_data": _p(1, 28, 36)},
        (_p(1, 9, 10), _p(1, 13, 20), _p(1, 21, 28)),
        {"document_number": ((_p(1, 0, 9),), (1, 9)),
         "birth_date": ((_p(1, 13, 19),), (1, 19)),
         "expiry_date": ((_p(1, 21, 27),), (1, 27))},
        (_p(0, 5, 36),),
    ),
    "FRA_CNI_1995": _Layout(
        (2, 36),
        {"document_type": _p(0, 0, 2), "issuing_state": _p(0, 2, 5), "surname": _p(0, 5, 30),
         "department": _p(0, 30, 33), "office": _p(0, 33, 36), "issue_month": _p(1, 0, 4),
         "document_number": _p(1, 0, 12), "given_names": _p(1, 13, 27), "birth_date": _p(1, 27, 33),
         "sex": _p(1, 34, 35)},
        (_p(1, 0, 4), _p(1, 7, 13), _p(1, 27, 34), _p(1, 35, 36)),
        {"document_number": ((_p(1, 0, 12),), (1, 12)),
         "birth_date": ((_p(1, 27, 33),), (1, 33)),
         "composite": ((_p(0, 0, 36), _p(1, 0, 35)), (1, 35))},
        (_p(0, 5, 30), _p(1, 13, 27)),
    ),
}

SHAPES: Mapping[tuple[int, int], tuple[str, ...]] = {
    (3, 30): ("TD1",),
    (2, 36): ("TD2", "FRA_CNI_1995", "MRV_B"),
    (2, 44): ("TD3", "MRV_A"),
}


@dataclasses.dataclass(frozen=True, slots=True)
class Repair:
    """One character changed by the parser, and the check that confirmed it."""

    line: int
    position: int
    old: str
    new: str
    field: str
    confirmed_by: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class MRZResult:
    """What was found and read in a machine-readable zone (contract: DESIGN §2).

    ``lines`` are the lines after repairs; ``raw_lines`` as read. ``checks``
    maps each check digit (``document_number``, ``birth_date``,
    ``expiry_date``, ``optional_data``, ``composite``) to its validity;
    ``valid`` is true when every check digit is right and the dates exist.
    ``reason`` is ``None`` when valid, else a code of :mod:`idverify.reasons`.
    """

    found: bool
    valid: bool
    format: str | None
    lines: list[str]
    fields: Mapping[str, Any]
    checks: Mapping[str, bool] = dataclasses.field(default_factory=frozen_mapping)
    repairs: tuple[Repair, ...] = ()
    raw_lines: tuple[str, ...] = ()
    reason: str | None = None
    details: Mapping[str, Any] = dataclasses.field(default_factory=frozen_mapping)

    def to_dict(self) -> dict[str, Any]:
        return {
            "found": self.found, "valid": self.valid, "format": self.format, "lines": list(self.lines),
            "fields": to_jsonable(self.fields), "checks": dict(self.checks),
            "repairs": [r.to_dict() for r in self.repairs], "raw_lines": list(self.raw_lines),
            "reason": self.reason, "details": to_jsonable(self.details),
        }


def not_found(reason: str = "mrz_not_found", **details: Any) -> MRZResult:
    """The result when no MRZ could be located or read."""
    return MRZResult(False, False, None, [], frozen_mapping(), reason=reason, details=frozen_mapping(details))


# --- normalisation -----------------------------------------------------------------------------

_TRANSLATE = str.maketrans({"«": "<", "‹": "<", "＜": "<", "{": "<", "(": "<", "[": "<"})


def normalize_lines(text: str | Iterable[str]) -> list[str]:
    """Upper-case, strip spaces, drop empty lines; foreign filler look-alikes become ``<``.

    >>> normalize_lines(" p<uto eriksson\\n\\n L898 «« ")
    ['P<UTOERIKSSON', 'L898<<']
    """
    raw = text.splitlines() if isinstance(text, str) else list(text)
    out = []
    for line in raw:
        clean = "".join(line.split()).upper().translate(_TRANSLATE)
        if clean:
            out.append(clean)
    return out


# --- dates and names ---------------------------------------------------------------------------


def mrz_date(yymmdd: str, kind: str, today: _dt.date | None = None) -> str | None:
    """ISO date of an MRZ ``YYMMDD`` (birth dates are in the past; expiries within 50 years ahead).

    >>> mrz_date("740812", "birth", _dt.date(2026, 1, 1)), mrz_date("120415", "expiry")
    ('1974-08-12', '2012-04-15')
    >>> mrz_date("251301", "birth") is None
    True
    """
    if len(yymmdd) != 6 or not yymmdd.isdigit():
        return None
    today = today or _dt.date.today()
    yy, mm, dd = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:])
    if kind == "birth":
        year = 2000 + yy if 2000 + yy <= today.year else 1900 + yy
    else:
        year = 2000 + yy if 2000 + yy <= today.year + 50 else 1900 + yy
    try:
        value = _dt.date(year, mm, dd)
    except ValueError:
        return None
    if kind == "birth" and value > today:
        value = value.replace(year=year - 100)
    return value.isoformat()


def _filler_k_repairs(text: str) -> list[int]:
    """Indexes of ``K`` that can only be filler: inside the trailing ``<``/K run that starts
    with ``<<`` after the surname separator (a given name is never followed by ``<<``)."""
    first_sep = text.find("<<")
    if first_sep < 0:
        return []
    m = re.search(r"<<[<K]*$", text[first_sep + 2:])
    if not m:
        return []
    start = first_sep + 2 + m.start()
    # the run must follow real name content after the separator, not be the separator itself
    if start == first_sep + 2 or not text[first_sep + 2:start].strip("<K"):
        return []
    return [i for i in range(start, len(text)) if text[i] == "K"]


def split_names(field: str) -> tuple[str, str]:
    """(surname, given names) of an ICAO name field.

    >>> split_names("ERIKSSON<<ANNA<MARIA<<<<<")
    ('ERIKSSON', 'ANNA MARIA')
    >>> split_names("DE<LA<CRUZ<<JOSE")
    ('DE LA CRUZ', 'JOSE')
    """
    surname, _, given = field.partition("<<")
    return _words(surname), _words(given)


def _words(text: str) -> str:
    return " ".join(w for w in text.split("<") if w)


# --- parsing -----------------------------------------------------------------------------------


def _get(lines: Sequence[str], pos: Pos) -> str:
    line, start, end = pos
    return lines[line][start:end]


def _check_data(lines: Sequence[str], spans: tuple[Pos, ...]) -> str:
    return "".join(_get(lines, s) for s in spans)


def _check_valid(lines: Sequence[str], layout: _Layout, name: str) -> bool:
    spans, (cl, cp) = layout.checks[name]
    data = _check_data(lines, spans)
    check = lines[cl][cp]
    if name == "document_number" and layout.shape == (3, 30) and check == "<" and lines[0][15:30].strip("<"):
        rest = lines[0][15:30].rstrip("<")  # TD1 long document number: its check digit ends the overflow
        data, check = data + rest[:-1], rest[-1]
    if name == "optional_data" and set(data) == {"<"} and check in "<0":
        return True
    return check_ok(data, check)


def _all_checks(lines: Sequence[str], layout: _Layout) -> dict[str, bool]:
    return {name: _check_valid(lines, layout, name) for name in layout.checks}


def detect_format(lines: Sequence[str]) -> str | None:
    """The most plausible format for lines of this shape (``None`` if no format has it).

    >>> detect_format(["IDFRADURAND<<<<<<<<<<<<<<<<<<<<75000", "012345678987ANTOINE<<PAUL<<1234567A1"])
    'FRA_CNI_1995'
    >>> detect_format(["I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "D231458907UTO7408122F1204159<<<<<<<6"])
    'TD2'
    """
    candidates = SHAPES.get((len(lines), len(lines[0]) if lines else 0), ())
    if not candidates or any(len(x) != len(lines[0]) for x in lines):
        return None
    if len(candidates) == 1:
        return candidates[0]
    if lines[0][:1] == "V":
        return next(c for c in candidates if c.startswith("MRV"))
    candidates = tuple(c for c in candidates if not c.startswith("MRV"))
    if len(candidates) == 1:
        return candidates[0]
    if lines[0].startswith("IDFRA"):
        # the old French card or a French TD2: the TD2 nationality field holds letters, the old card's
        # sequence number digits; then the one whose check digits hold (ties: old card)
        l2 = lines[1]
        scores = {"FRA_CNI_1995": 2 * (l2[10:13].isdigit() and l2[13].isalpha()),
                  "TD2": 2 * all(c.isalpha() or c == "<" for c in l2[10:13])}
        for c in scores:
            scores[c] += sum(_all_checks(lines, LAYOUTS[c]).values())
        return "TD2" if scores["TD2"] > scores["FRA_CNI_1995"] else "FRA_CNI_1995"
    return "TD2"


def _field_for(layout: _Layout, line: int, pos: int) -> str:
    for name, (fl, fs, fe) in layout.fields.items():
        if fl == line and fs <= pos < fe and name != "issue_month":
            return name
    for name, (_spans, (cl, cp)) in layout.checks.items():
        if (cl, cp) == (line, pos):
            return f"{name}_check"
    return "filler"


def _is_check_position(layout: _Layout, line: int, pos: int) -> bool:
    return any((cl, cp) == (line, pos) for _s, (cl, cp) in layout.checks.values())


def _covering(layout: _Layout, name: str) -> list[str]:
    """Composite checks whose data covers the data of check ``name``."""
    spans, _check = layout.checks[name]
    out = []
    for other, (ospans, _c) in layout.checks.items():
        if other == name:
            continue
        cells = {(ln, i) for ln, s, e in ospans for i in range(s, e)}
        if all((ln, i) in cells for ln, s, e in spans for i in range(s, e)):
            out.append(other)
    return out


Alternatives = Mapping[tuple[int, int], str]  # (line, position) -> the reader's runner-up characters


def _independently_confirmed(layout: _Layout, name: str) -> bool:
    """Whether a composite check confirms a change in field ``name`` independently of the field's own
    check digit: it does not when the field sits in the composite with the same 7-3-1 phase (its data
    and check digit then add the same weighted sum to both), as the document numbers of TD1, TD3 and
    the old French card do."""
    spans, _check = layout.checks[name]
    first = spans[0]
    for other in _covering(layout, name):
        offset = 0
        for ln, s, e in layout.checks[other][0]:
            if ln == first[0] and s <= first[1] < e:
                offset += first[1] - s
                break
            offset += e - s
        if offset % 3:
            return True
    return False


def _repair(lines: list[str], layout: _Layout, alternatives: Alternatives | None) -> tuple[list[str], list[Repair]]:
    """Check-digit-confirmed repairs; see the module docstring for the rules."""
    work = [list(x) for x in lines]
    repairs: list[Repair] = []

    # K read for < inside filler runs: names, and optional data fields. The check digits cannot confirm
    # it (K and < differ by 20, a multiple of 10), so only the unambiguous filler context counts.
    for ln, s, e in layout.names:
        for i in _filler_k_repairs("".join(work[ln][s:e])):
            work[ln][s + i] = "<"
            repairs.append(Repair(ln, s + i, "K", "<", "names", "filler_run"))
    for name, (ln, s, e) in layout.fields.items():
        if not name.startswith("optional_data"):
            continue
        chars = work[ln][s:e]
        for i, c in enumerate(chars):
            if c == "K" and (i == 0 or chars[i - 1] == "<") and (i == len(chars) - 1 or chars[i + 1] == "<") \
                    and "".join(chars[i:]).strip("<K") == "":
                work[ln][s + i] = "<"
                repairs.append(Repair(ln, s + i, "K", "<", name, "filler_run"))

    numeric = {(ln, i) for ln, s, e in layout.numeric for i in range(s, e)}
    checks_before = _all_checks(["".join(x) for x in work], layout)
    for name, (spans, (cl, cp)) in layout.checks.items():
        if checks_before[name]:
            continue
        cells: list[tuple[int, int]] = [(ln, i) for ln, s, e in spans for i in range(s, e)]
        # 1. a letter in a digits-only position (dates, check digits) can only be one digit
        forced = [(ln, i, _TO_DIGIT[work[ln][i]]) for ln, i in [*cells, (cl, cp)]
                  if (ln, i) in numeric and work[ln][i] in _TO_DIGIT]
        base = [row[:] for row in work]
        for ln, i, new in forced:
            base[ln][i] = new
        candidates: list[list[tuple[int, int, str]]] = []
        if _check_valid(["".join(x) for x in base], layout, name):
            if forced:
                candidates.append(forced)
        elif alternatives and _independently_confirmed(layout, name):
            # 2. one character the reader was unsure of, replaced by its runner-up (never the check digit)
            for ln, i in cells:
                old = base[ln][i]
                for new in alternatives.get((ln, i), ""):
                    if new == old or ((ln, i) in numeric and not new.isdigit()):
                        continue
                    base[ln][i] = new
                    if _check_valid(["".join(x) for x in base], layout, name):
                        candidates.append([*forced, (ln, i, new)])
                    base[ln][i] = old
        if len(candidates) != 1:
            continue
        trial = [row[:] for row in work]
        for ln, i, new in candidates[0]:
            trial[ln][i] = new
        trial_text = ["".join(x) for x in trial]
        covering = _covering(layout, name)
        if covering and not all(_check_valid(trial_text, layout, c) for c in covering):
            continue  # the composite does not confirm it (e.g. a wrong check digit printed on purpose)
        for ln, i, new in candidates[0]:
            repairs.append(Repair(ln, i, work[ln][i], new, _field_for(layout, ln, i),
                                  "+".join([name, *covering])))
            work[ln][i] = new
    return ["".join(x) for x in work], repairs


def _fields(lines: Sequence[str], fmt: str, layout: _Layout, today: _dt.date | None) -> dict[str, Any]:
    raw = {name: _get(lines, pos) for name, pos in layout.fields.items()}
    out: dict[str, Any] = {
        "document_type": raw["document_type"].replace("<", ""),
        "issuing_state": raw["issuing_state"].replace("<", ""),
    }
    if fmt == "FRA_CNI_1995":
        out["surname"] = _words(raw["surname"])
        out["given_names"] = " ".join(_words(g) for g in raw["given_names"].split("<<") if _words(g))
        out["document_number"] = raw["document_number"]
        out["nationality"] = "FRA"
        out["department"] = raw["department"].replace("<", "")
        out["office"] = raw["office"].replace("<", "")
        ym = raw["issue_month"]
        year_now = (today or _dt.date.today()).year
        out["issue_month"] = (f"{2000 + int(ym[:2]) if 2000 + int(ym[:2]) <= year_now else 1900 + int(ym[:2])}"
                              f"-{ym[2:]}") if ym.isdigit() and 1 <= int(ym[2:]) <= 12 else None
        out["expiry_date"] = None
        out["names_truncated"] = {"surname": raw["surname"][-1] != "<", "given_names": raw["given_names"][-1] != "<"}
    else:
        surname, given = split_names(raw["names"])
        out["surname"], out["given_names"] = surname, given
        number = raw["document_number"]
        if fmt == "TD1" and lines[0][14] == "<" and lines[0][15:30].strip("<"):
            # long document number: continues in the optional data, its check digit last
            rest = lines[0][15:30].rstrip("<")
            number = number + rest[:-1]
        out["document_number"] = number.replace("<", "")
        out["nationality"] = raw["nationality"].replace("<", "")
        out["expiry_date"] = mrz_date(raw["expiry_date"], "expiry", today)
        out["optional_data"] = raw["optional_data"].rstrip("<")
        if "optional_data_2" in raw:
            out["optional_data_2"] = raw["optional_data_2"].rstrip("<")
        out["names_truncated"] = raw["names"][-1] != "<"
    out["birth_date"] = mrz_date(raw["birth_date"], "birth", today)
    sex = raw["sex"]
    out["sex"] = sex if sex in ("M", "F") else "X" if sex in ("<", "X") else None
    return out


def parse_mrz(text: str | Iterable[str], fmt: str | None = None, *, repair: bool = True,
              alternatives: Alternatives | None = None, today: _dt.date | None = None,
              details: Mapping[str, Any] | None = None) -> MRZResult:
    """Parse, validate and (where check digits confirm it) repair MRZ lines.

    ``text`` is the MRZ as one string with newlines or as lines. ``fmt``
    forces a format; otherwise it is inferred from the shape. ``alternatives``
    (from a glyph reader) maps (line, position) to runner-up characters for
    the positions it was unsure of: only those may be changed in
    alphanumeric fields. Never raises
    on bad content: the result says ``valid=False`` with a reason.

    >>> parse_mrz("hello").reason
    'mrz_format_unknown'
    """
    lines = normalize_lines(text)
    raw = tuple(lines)
    extra = dict(details or {})
    if not lines:
        return not_found(**extra)
    fmt = fmt or detect_format(lines)
    if fmt is None or fmt not in LAYOUTS or (len(lines), len(lines[0])) != LAYOUTS[fmt].shape \
            or any(len(x) != len(lines[0]) for x in lines):
        return MRZResult(True, False, None, lines, frozen_mapping(), raw_lines=raw, reason="mrz_format_unknown",
                         details=frozen_mapping(extra))
    layout = LAYOUTS[fmt]
    bad_chars = sorted({c for line in lines for c in line if c not in MRZ_CHARS})
    repairs: list[Repair] = []
    if repair and not bad_chars:
        lines, repairs = _repair(lines, layout, alternatives)
    checks = {name: False for name in layout.checks} if bad_chars else _all_checks(lines, layout)
    fields = _fields(lines, fmt, layout, today)
    dates_ok = fields["birth_date"] is not None or _get(lines, layout.fields["birth_date"])[4:] == "<<"
    if "expiry_date" in layout.fields:
        dates_ok = dates_ok and fields["expiry_date"] is not None
    if bad_chars:
        reason: str | None = "mrz_characters"
        extra["bad_characters"] = bad_chars
    elif not all(checks.values()):
        reason = "mrz_check_digit"
    elif not dates_ok:
        reason = "mrz_date_invalid"
    elif fields["sex"] is None:
        reason = "mrz_field_invalid"
    else:
        reason = None
    return MRZResult(True, reason is None, fmt, lines, frozen_mapping(fields), frozen_mapping(checks),
                     tuple(repairs), raw, reason, frozen_mapping(extra))


# --- composing (tests, synthetic documents) ----------------------------------------------------


def _pad(text: str, width: int) -> str:
    text = text.upper().replace(" ", "<").replace("-", "<")
    return (text + "<" * width)[:width]


def _names_field(surname: str, given_names: str, width: int) -> str:
    return _pad(surname.replace(" ", "<") + "<<" + given_names.replace(" ", "<"), width)


def _yymmdd(iso: str | None) -> str:
    return "<<<<<<" if not iso else iso[2:4] + iso[5:7] + iso[8:10]


def compose_mrz(fmt: str, *, document_number: str, surname: str, given_names: str, birth_date: str,
                sex: str, expiry_date: str | None = None, nationality: str = "FRA", issuing_state: str = "FRA",
                document_type: str | None = None, optional_data: str = "", issue_month: str = "",
                department: str = "", office: str = "") -> list[str]:
    """MRZ lines with correct check digits (for tests and synthetic documents).

    Dates are ISO strings; ``issue_month`` is ``YYYY-MM`` (old French card).
    For ``FRA_CNI_1995`` the ``document_number`` is the 12 characters
    YYMM + département + sequence.

    >>> compose_mrz("TD3", document_number="L898902C3", surname="ERIKSSON", given_names="ANNA MARIA",
    ...             birth_date="1974-08-12", sex="F", expiry_date="2012-04-15", nationality="UTO",
    ...             issuing_state="UTO", optional_data="ZE184226B")[1]
    'L898902C36UTO7408122F1204159ZE184226B<<<<<10'
    >>> compose_mrz("FRA_CNI_1995", document_number="940992310285", surname="BERTHIER", given_names="CORINNE",
    ...             birth_date="1965-12-06", sex="F")
    ['IDFRABERTHIER<<<<<<<<<<<<<<<<<<<<<<<', '9409923102854CORINNE<<<<<<<6512068F4']
    """
    cd = calc_check_digit
    sex_c = sex if sex in ("M", "F") else "<"
    birth, expiry = _yymmdd(birth_date), _yymmdd(expiry_date)
    if fmt == "FRA_CNI_1995":
        l1 = "IDFRA" + _pad(surname, 25) + _pad(department, 3) + _pad(office, 3)
        number = _pad(document_number, 12)
        given = _pad("<<".join(g.replace(" ", "<").replace("-", "<") for g in given_names.split(",")), 14) \
            if "," in given_names else _pad(given_names.replace(" ", "<<"), 14)
        l2 = number + cd(number) + given + birth + cd(birth) + sex_c
        return [l1, l2 + cd(l1 + l2)]
    number = _pad(document_number, 9)
    if fmt == "TD1":
        dtype = _pad(document_type or "ID", 2)
        opt = _pad(optional_data, 15)
        l1 = dtype + _pad(issuing_state, 3) + number + cd(number) + opt
        l2 = birth + cd(birth) + sex_c + expiry + cd(expiry) + _pad(nationality, 3) + "<" * 11
        comp = l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29]
        return [l1, l2 + cd(comp), _names_field(surname, given_names, 30)]
    width = 44 if fmt in ("TD3", "MRV_A") else 36
    dtype = _pad(document_type or {"TD3": "P", "TD2": "I"}.get(fmt, "V"), 2)
    l1 = dtype + _pad(issuing_state, 3) + _names_field(surname, given_names, width - 5)
    head = number + cd(number) + _pad(nationality, 3) + birth + cd(birth) + sex_c + expiry + cd(expiry)
    if fmt == "TD3":
        opt = _pad(optional_data, 14)
        opt_cd = "<" if not optional_data else cd(opt)
        body = head + opt + opt_cd
        return [l1, body + cd(body[0:10] + body[13:20] + body[21:43])]
    if fmt == "TD2":
        body = head + _pad(optional_data, 7)
        return [l1, body + cd(body[0:10] + body[13:20] + body[21:35])]
    return [l1, head + _pad(optional_data, width - 28)]


def single_substitutions(lines: Sequence[str]) -> Iterable[tuple[int, int, str]]:
    """Every (line, position, other character) — for exhaustive corruption tests."""
    for ln, line in enumerate(lines):
        for i, c in itertools.product(range(len(line)), sorted(MRZ_CHARS)):
            if c != line[i]:
                yield ln, i, c
