"""OCR: MRZ reader and parser, NIR, carte Vitale, printed CNIe fields, cross-checks.

Public names (resolved lazily so importing the package loads no engine)::

    read_mrz(image)          -> MRZResult (.found, .valid, .format, .lines, .fields, to_dict())
    parse_nir(text)          -> NIR (raises InvalidNIR with a reason code)
    read_carte_vitale(image) -> VitaleResult (.nir, .surname, .given_names, to_dict())

Small pieces are importable on their own: :mod:`idverify.ocr.checkdigit`
(ICAO 9303 7-3-1), :mod:`idverify.ocr.mrz` (parse/validate/repair),
:mod:`idverify.ocr.nir`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_LAZY = {
    "read_mrz": "idverify.ocr.reader",
    "MRZResult": "idverify.ocr.mrz",
    "parse_mrz": "idverify.ocr.mrz",
    "parse_nir": "idverify.ocr.nir",
    "NIR": "idverify.ocr.nir",
    "read_carte_vitale": "idverify.ocr.vitale",
    "VitaleResult": "idverify.ocr.vitale",
    "read_printed_fields": "idverify.ocr.printed",
    "cross_check": "idverify.ocr.crosscheck",
}

__all__ = [
    "NIR",
    "MRZResult",
    "VitaleResult",
    "cross_check",
    "parse_mrz",
    "parse_nir",
    "read_carte_vitale",
    "read_mrz",
    "read_printed_fields",
]

if TYPE_CHECKING:
    from idverify.ocr.crosscheck import cross_check
    from idverify.ocr.mrz import MRZResult, parse_mrz
    from idverify.ocr.nir import NIR, parse_nir
    from idverify.ocr.printed import read_printed_fields
    from idverify.ocr.reader import read_mrz
    from idverify.ocr.vitale import VitaleResult, read_carte_vitale


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'idverify.ocr' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
