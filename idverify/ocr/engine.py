"""The OCR-engine port: one small Protocol, two Tesseract adapters, one chosen automatically.

* :class:`TesserocrEngine` keeps Tesseract loaded in-process (tesserocr):
  ~tens of ms per small crop.
* :class:`PytesseractEngine` runs the ``tesseract`` program per call
  (pytesseract): portable, ~0.3-0.5 s per call.

:func:`default_engine` picks tesserocr when it imports and finds the
language data, else pytesseract when the ``tesseract`` program exists, else
raises :class:`~idverify.errors.EngineError` (``ocr_engine_unavailable``).
Results record ``engine.name`` and ``engine.version``.
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from idverify.errors import EngineError

TESSDATA_DIRS = (Path("/usr/share/tesseract-ocr/5/tessdata"), Path("/usr/share/tesseract-ocr/4.00/tessdata"),
                 Path("/usr/share/tessdata"))


@runtime_checkable
class OCREngine(Protocol):
    """Reads text from a grey ``uint8`` image (one line or a block)."""

    name: str
    version: str

    def recognize(self, gray: np.ndarray, *, lang: str = "fra", psm: int = 7,
                  whitelist: str | None = None) -> str:
        """The text (lines separated by ``\\n``); ``psm`` is Tesseract's page segmentation mode."""
        ...


def tessdata_dir() -> Path | None:
    env = os.environ.get("TESSDATA_PREFIX")
    for d in ((Path(env),) if env else ()) + TESSDATA_DIRS:
        if (d / "eng.traineddata").is_file():
            return d
    return None


class TesserocrEngine:
    """Tesseract in-process through tesserocr; one API object per (lang, psm, whitelist), reused."""

    name = "tesserocr"

    def __init__(self, tessdata: Path | None = None) -> None:
        import tesserocr

        self._tesserocr = tesserocr
        self._path = str(tessdata or tessdata_dir() or "")
        self.version = f"tesseract {tesserocr.tesseract_version().split()[1]} (tesserocr {tesserocr.__version__})"
        self._apis: dict[tuple[str, int, str | None], Any] = {}
        self._lock = threading.Lock()

    def _api(self, lang: str, psm: int, whitelist: str | None) -> Any:
        key = (lang, psm, whitelist)
        api = self._apis.get(key)
        if api is None:
            api = self._tesserocr.PyTessBaseAPI(path=self._path, lang=lang, psm=psm)
            if whitelist:
                api.SetVariable("tessedit_char_whitelist", whitelist)
            api.SetVariable("load_system_dawg", "0") if whitelist else None
            self._apis[key] = api
        return api

    def recognize(self, gray: np.ndarray, *, lang: str = "fra", psm: int = 7,
                  whitelist: str | None = None) -> str:
        from PIL import Image

        with self._lock:
            api = self._api(lang, psm, whitelist)
            api.SetImage(Image.fromarray(np.ascontiguousarray(gray)))
            return str(api.GetUTF8Text()).strip()


class PytesseractEngine:
    """Tesseract as a subprocess through pytesseract (portable fallback)."""

    name = "pytesseract"

    def __init__(self) -> None:
        import pytesseract

        self._pt = pytesseract
        self.version = f"tesseract {pytesseract.get_tesseract_version()} (pytesseract)"

    def recognize(self, gray: np.ndarray, *, lang: str = "fra", psm: int = 7,
                  whitelist: str | None = None) -> str:
        config = f"--psm {psm}"
        if whitelist:
            config += f" -c tessedit_char_whitelist={whitelist} -c load_system_dawg=0"
        return str(self._pt.image_to_string(gray, lang=lang, config=config)).strip()


_default: OCREngine | None = None


@functools.cache
def _auto() -> OCREngine:
    errors = []
    try:
        if tessdata_dir() is not None:
            return TesserocrEngine()
        errors.append("no tessdata with eng/fra found")
    except Exception as exc:  # noqa: BLE001 - any failure to load tesserocr means: try the next engine
        errors.append(f"tesserocr: {exc}")
    if shutil.which("tesseract"):
        try:
            return PytesseractEngine()
        except Exception as exc:  # noqa: BLE001
            errors.append(f"pytesseract: {exc}")
    raise EngineError("ocr_engine_unavailable",
                      "no OCR engine: install tesseract-ocr with tesseract-ocr-fra/-eng and tesserocr or pytesseract"
                      f" ({'; '.join(errors) or 'tesseract not on PATH'})")


def default_engine() -> OCREngine:
    """The engine set with :func:`set_default_engine`, else tesserocr, else pytesseract."""
    return _default if _default is not None else _auto()


def set_default_engine(engine: OCREngine | None) -> None:
    """Use ``engine`` everywhere (tests use fakes); ``None`` goes back to the automatic choice."""
    global _default
    _default = engine
