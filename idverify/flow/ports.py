"""Ports to the checks: the identity verifier, the carte Vitale reader and the NIR parser.

The real implementations live in :mod:`idverify.verify` and :mod:`idverify.ocr`
and are imported lazily on first use, so the flow imports nothing heavy and
tests inject fakes.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from idverify.errors import InvalidNIR
from idverify.flow.eligibility import Account


@runtime_checkable
class IdentityReport(Protocol):
    """What a verifier returns (an :class:`idverify.results.Report` fits)."""

    @property
    def passed(self) -> bool: ...
    @property
    def reasons(self) -> list[str]: ...
    def to_dict(self) -> dict[str, Any]: ...


@runtime_checkable
class IdentityVerifier(Protocol):
    """Checks the identity evidence. Files are paths inside the activation's vault folder;
    ``evidence_dir`` is where the verifier may write crops/frames for the reviewer (biometric:
    purged with the activation). Raises ``InputError`` for unusable media."""

    def verify(self, *, recto: Path, verso: Path, tilted: Path, video: Path, nir: str | None,
               account: Account | None, evidence_dir: Path) -> IdentityReport: ...


class CarteVitaleScan(Protocol):
    """What :func:`idverify.ocr.read_carte_vitale` returns."""

    @property
    def nir(self) -> Any: ...
    @property
    def surname(self) -> str | None: ...
    @property
    def given_names(self) -> str | None: ...


CarteVitaleReader = Callable[[Any], CarteVitaleScan]
NirParser = Callable[[str], Any]


class VerifyIdentity:
    """The default verifier: :func:`idverify.verify.verify_identity`, imported on first use.

    ``evidence_dir`` is passed on only if ``verify_identity`` accepts it.
    """

    def __init__(self) -> None:
        self._fn: Callable[..., Any] | None = None
        self._takes_dir = False

    def verify(self, *, recto: Path, verso: Path, tilted: Path, video: Path, nir: str | None,
               account: Account | None, evidence_dir: Path) -> IdentityReport:
        if self._fn is None:
            fn = importlib.import_module("idverify.verify").verify_identity
            self._takes_dir = "evidence_dir" in inspect.signature(fn).parameters
            self._fn = fn
        kwargs: dict[str, Any] = {"recto": recto, "verso": verso, "tilted": tilted, "video": video,
                                  "nir": nir, "account": account}
        if self._takes_dir:
            kwargs["evidence_dir"] = evidence_dir
        report: IdentityReport = self._fn(**kwargs)
        return report


def read_carte_vitale(image: Any) -> CarteVitaleScan:
    """The default carte Vitale reader (:func:`idverify.ocr.read_carte_vitale`, lazily)."""
    result: CarteVitaleScan = importlib.import_module("idverify.ocr").read_carte_vitale(image)
    return result


def parse_nir(text: str) -> Any:
    """The default NIR parser (:func:`idverify.ocr.parse_nir`, lazily); raises ``InvalidNIR``."""
    return importlib.import_module("idverify.ocr").parse_nir(text)


def nir_text(value: Any) -> str:
    """The 15-character NIR (13 + key, ``2A``/``2B`` kept) of a parsed value or a string.

    Accepts a string or an object with ``compact``/``value``/``nir``/``number``.

    >>> nir_text("2 69 05 49 588 157 80")
    '269054958815780'
    >>> nir_text("12")
    Traceback (most recent call last):
    ...
    idverify.errors.InvalidNIR: nir_invalid: not a 15-character NIR
    """
    if not isinstance(value, str):
        for attr in ("compact", "value", "nir", "number"):
            candidate = getattr(value, attr, None)
            if callable(candidate):
                candidate = candidate()
            if isinstance(candidate, str):
                value = candidate
                break
        else:
            value = str(value)
    text = "".join(ch for ch in value.upper() if ch.isalnum())
    if len(text) != 15 or not (text.isdigit() or (text[5:7] in ("2A", "2B")
                                                   and (text[:5] + text[7:]).isdigit())):
        raise InvalidNIR("nir_invalid", "not a 15-character NIR")
    return text
