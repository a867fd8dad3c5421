"""ID card capture checks: locate and rectify the card, quality, side and type, template, tilt, recapture.

Public API (DESIGN §2)::

    report = check_document(recto="r.jpg", verso="v.jpg", tilted="t.jpg")
    report.passed, report.reasons, report.checks, report.fields, report.portrait, report.to_dict()

Lower-level pieces: :func:`locate_card` (corners + rectified card),
:func:`assess_quality`, :func:`classify_side`, :func:`check_template`,
:func:`check_tilt`, :func:`check_recapture`. Card geometry lives in
:mod:`idverify.document.layout`.
"""

from __future__ import annotations

from idverify.document.check import DocumentReport, check_document
from idverify.document.locate import CardLocation, locate_card
from idverify.document.quality import assess_quality
from idverify.document.recapture import check_recapture
from idverify.document.side import SideVerdict, classify_card
from idverify.document.template import check_template
from idverify.document.tilt import TiltResult, check_tilt

classify_side = classify_card  # the name used in the design notes

__all__ = [
    "CardLocation",
    "DocumentReport",
    "SideVerdict",
    "TiltResult",
    "assess_quality",
    "check_document",
    "check_recapture",
    "check_template",
    "check_tilt",
    "classify_card",
    "classify_side",
    "locate_card",
]
