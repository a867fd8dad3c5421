"""Fictional personas: names, dates, places and numbers that are consistent.

Everything is drawn from a numpy ``Generator``: the same seed gives the same
persona. Names carry French accents on the card and are transliterated for
the MRZ (É → E, Ç → C, Œ → OE; hyphens, spaces and apostrophes → ``<``). The
NIR agrees with the sex, birth year, birth month and birth département and
has a valid key; the carte Vitale number is that NIR (key and grouping from
:mod:`idverify.ocr.nir`).

>>> import numpy as np
>>> p = make_persona(np.random.default_rng(7), sex="F")
>>> p.sex, p.nir[0], p.nir[1:3] == p.birth_date[2:4], p.nir[3:5] == p.birth_date[5:7]
('F', '2', True, True)
>>> from idverify.ocr.nir import is_valid
>>> is_valid(p.nir)
True
>>> mrz_name("Lefèvre-Châtelain")
'LEFEVRE<CHATELAIN'
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import unicodedata
from typing import Any

import numpy as np

from idverify.ocr.nir import calc_check_digits as nir_key
from idverify.ocr.nir import format as format_nir
from idverify.results import to_jsonable

# --- name and place tables (fictional combinations) -------------------------------------------

SURNAMES = (
    "MARTIN", "LEFÈVRE", "GAUTHIER", "BÉRANGER", "FAURE", "MOREAU", "CHÂTELAIN", "DUPRÉ", "LEMAÎTRE",
    "ROUSSEAU", "GIRAUD", "MÉNARD", "PERRIN", "DESCHAMPS", "NOËL", "CORDIER", "BRUNET", "AUBRY",
    "LECLÈRE", "VALLÉE", "D'ARGENTRÉ", "MOULIN-BÉRARD",
)
GIVEN_F = (
    "Maëlys", "Gaëlle", "Hélène", "Éloïse", "Chloé", "Anaïs", "Zoé", "Léa", "Françoise", "Noémie", "Inès",
    "Céline", "Agnès", "Aurélie", "Mélanie", "Bérénice", "Marie", "Anne", "Jeanne", "Claire",
)
GIVEN_M = (
    "Jérôme", "Loïc", "Théo", "Léon", "Benoît", "Raphaël", "Gaël", "Hervé", "Noël", "Mathéo", "François",
    "Rémi", "Stéphane", "Frédéric", "Jean", "Pierre", "Louis", "Paul", "Étienne", "Joël",
)
# (commune as printed, département, INSEE commune number within the département)
BIRTH_PLACES = (
    ("LYON", "69", "123"), ("MARSEILLE", "13", "055"), ("GRENOBLE", "38", "185"), ("NANTES", "44", "109"),
    ("STRASBOURG", "67", "482"), ("CLERMONT-FERRAND", "63", "113"), ("SAINT-ÉTIENNE", "42", "218"),
    ("NICE", "06", "088"), ("TOULON", "83", "137"), ("AVIGNON", "84", "007"), ("LE MANS", "72", "181"),
    ("ROUEN", "76", "540"), ("CHAMBÉRY", "73", "065"), ("VALENCE", "26", "362"), ("MÂCON", "71", "270"),
    ("BOURG-EN-BRESSE", "01", "053"), ("MONTLUÇON", "03", "185"), ("GAP", "05", "061"),
    ("AJACCIO", "2A", "004"), ("BASTIA", "2B", "033"), ("ANGERS", "49", "007"), ("PARIS 14E", "75", "114"),
)
# eligible départements (DESIGN §1) with a town and postcode for the address
ADDRESS_TOWNS = (
    ("LYON", "69003", "69"), ("GRENOBLE", "38000", "38"), ("NANTES", "44000", "44"), ("ANNEMASSE", "74100", "74"),
    ("CLERMONT-FERRAND", "63000", "63"), ("SAINT-ÉTIENNE", "42000", "42"), ("NICE", "06000", "06"),
    ("TOULON", "83000", "83"), ("AVIGNON", "84000", "84"), ("LE MANS", "72000", "72"), ("ROUEN", "76000", "76"),
    ("CHAMBÉRY", "73000", "73"), ("VALENCE", "26000", "26"), ("MÂCON", "71000", "71"), ("MARSEILLE", "13006", "13"),
    ("STRASBOURG", "67000", "67"), ("BOURG-EN-BRESSE", "01000", "01"), ("GAP", "05000", "05"),
)
STREETS = (
    "RUE DES LILAS", "AVENUE JEAN JAURÈS", "BOULEVARD DE LA RÉPUBLIQUE", "RUE VICTOR HUGO", "CHEMIN DES ÉCOLIERS",
    "PLACE DE L'ÉGLISE", "RUE DU GÉNÉRAL LECLERC", "ALLÉE DES PÉPINIÈRES", "RUE PASTEUR", "QUAI SAINT-ANTOINE",
)
DOC_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"  # CNIe numbers avoid I and O


# --- small number helpers ---------------------------------------------------------------------


def mrz_name(text: str) -> str:
    """Upper-case ASCII for the MRZ: accents dropped, Œ/Æ expanded, separators → ``<``."""
    text = text.upper().replace("Œ", "OE").replace("Æ", "AE")
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    out = "".join(c if ("A" <= c <= "Z" or "0" <= c <= "9") else "<" for c in text)
    return out.strip("<")


def add_years(day: dt.date, years: int) -> dt.date:
    """``day`` plus whole years (29 February → 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


# --- the persona ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Persona:
    """A fictional card holder. Dates are ISO ``YYYY-MM-DD`` strings."""

    surname: str  # as printed, upper case with accents
    given_names: tuple[str, ...]  # as printed, with accents
    usage_name: str | None  # nom d'usage (printed "ép. X" on the recto), or None
    sex: str  # "F" | "M"
    birth_date: str
    birth_place: str  # commune as printed
    birth_department: str  # "69", "2A", ...
    nationality: str  # ICAO code, "FRA"
    height_cm: int
    address: tuple[str, ...]  # printed lines
    address_department: str
    nir: str  # 15 characters, key included
    cnie_number: str  # 9 alphanumerics
    card_access_number: str  # 6 digits
    cnie_issue_date: str
    cnie_expiry_date: str  # issue + 10 years - 1 day
    cni95_number: str  # 12 characters: YYMM + département(3) + sequence(5)
    cni95_issue_date: str
    cni95_office: str  # 3 digits (issuing office, MRZ line 1)
    vitale_issue_date: str
    portrait: str  # key of idverify.synth.portraits.PORTRAITS

    @property
    def mrz_surname(self) -> str:
        return mrz_name(self.surname)

    @property
    def mrz_given_names(self) -> str:
        """Given names for TD1 / compose_mrz: transliterated, separated by spaces."""
        return " ".join(mrz_name(g) for g in self.given_names)

    @property
    def cni95_department(self) -> str:
        return self.cni95_number[4:7]

    @property
    def cni95_printed_expiry(self) -> str:
        """The date printed on the old card: issue + 10 years (never re-printed)."""
        return (add_years(dt.date.fromisoformat(self.cni95_issue_date), 10) - dt.timedelta(days=1)).isoformat()

    @property
    def cni95_valid_until(self) -> str:
        """Legal validity of the old card: 15 years for adults issued from 2004-01-02, else 10."""
        issued = dt.date.fromisoformat(self.cni95_issue_date)
        born = dt.date.fromisoformat(self.birth_date)
        adult = add_years(born, 18) <= issued
        years = 15 if adult and issued >= dt.date(2004, 1, 2) else 10
        return (add_years(issued, years) - dt.timedelta(days=1)).isoformat()

    def to_dict(self) -> dict[str, Any]:
        d = to_jsonable(dataclasses.asdict(self))
        d["nir_formatted"] = format_nir(self.nir)
        d["mrz_surname"], d["mrz_given_names"] = self.mrz_surname, self.mrz_given_names
        d["cni95_printed_expiry"], d["cni95_valid_until"] = self.cni95_printed_expiry, self.cni95_valid_until
        return d


def _pick(rng: np.random.Generator, seq: tuple[Any, ...]) -> Any:
    return seq[int(rng.integers(len(seq)))]


def _date_between(rng: np.random.Generator, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=int(rng.integers((end - start).days + 1)))


def make_persona(rng: np.random.Generator, *, sex: str | None = None, portrait: str = "astronaut",
                 birth_date: dt.date | None = None, cnie_issue_date: dt.date | None = None,
                 cni95_issue_date: dt.date | None = None) -> Persona:
    """Draw a consistent fictional persona from ``rng`` (optional fixed sex and dates)."""
    sex = sex or ("F" if rng.random() < 0.5 else "M")
    names = GIVEN_F if sex == "F" else GIVEN_M
    n_given = 1 + int(rng.integers(3))
    idx = rng.choice(len(names), size=n_given, replace=False)
    given = tuple(names[int(i)] for i in idx)
    surname = _pick(rng, SURNAMES)
    usage = _pick(rng, SURNAMES) if sex == "F" and rng.random() < 0.3 else None
    born = birth_date or _date_between(rng, dt.date(1952, 1, 1), dt.date(2002, 12, 31))
    place, dep, commune = _pick(rng, BIRTH_PLACES)
    order = f"{int(rng.integers(1, 1000)):03d}"
    first13 = ("2" if sex == "F" else "1") + born.strftime("%y%m") + dep + commune + order
    nir = first13 + nir_key(first13)
    town, postcode, adep = _pick(rng, ADDRESS_TOWNS)
    address = (f"{int(rng.integers(1, 120))} {_pick(rng, STREETS)}", f"{postcode} {town}")
    cnie_issue = cnie_issue_date or _date_between(rng, dt.date(2022, 1, 3), dt.date(2026, 6, 30))
    cnie_expiry = add_years(cnie_issue, 10) - dt.timedelta(days=1)
    cnie_number = "".join(DOC_ALPHABET[int(i)] for i in rng.integers(len(DOC_ALPHABET), size=9))
    can = f"{int(rng.integers(0, 1_000_000)):06d}"
    adult_from = add_years(born, 18)
    cni95_issue = cni95_issue_date or _date_between(rng, max(adult_from, dt.date(2004, 1, 5)), dt.date(2020, 12, 31))
    cni95_dep = f"{adep:0>3}" if adep.isdigit() else f"0{adep}"
    cni95_number = cni95_issue.strftime("%y%m") + cni95_dep + f"{int(rng.integers(0, 100_000)):05d}"
    vitale_issue = _date_between(rng, dt.date(2008, 1, 2), dt.date(2025, 12, 31))
    return Persona(
        surname=surname, given_names=given, usage_name=usage, sex=sex, birth_date=born.isoformat(),
        birth_place=place, birth_department=dep, nationality="FRA", height_cm=int(rng.integers(150, 196)),
        address=address, address_department=adep, nir=nir, cnie_number=cnie_number, card_access_number=can,
        cnie_issue_date=cnie_issue.isoformat(), cnie_expiry_date=cnie_expiry.isoformat(),
        cni95_number=cni95_number, cni95_issue_date=cni95_issue.isoformat(),
        cni95_office=f"{int(rng.integers(1, 60)):03d}", vitale_issue_date=vitale_issue.isoformat(),
        portrait=portrait,
    )
