"""Model files: where they are, and proof that they are the ones we calibrated.

``models/manifest.json`` lists every model file (name, source package and
version, sha256, licence). :func:`model_path` finds a file and checks its
hash once per process; a missing or altered file raises :class:`ModelError`
naming the fix. Nothing is loaded at import time.

>>> sorted(manifest())[:1]
['dlib_face_recognition_resnet_model_v1']
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib
import importlib.util
import json
import os
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path

from idverify.errors import ModelError

MODELS_DIR = Path(os.environ.get("IDVERIFY_MODELS_DIR", Path(__file__).resolve().parent.parent / "models"))
MANIFEST = MODELS_DIR / "manifest.json"
_FIX = "run scripts/setup.sh (it installs the model packages and builds the generated models)"


@dataclasses.dataclass(frozen=True, slots=True)
class ModelEntry:
    name: str
    file: str
    package: str  # "idverify" for files kept in models/
    version: str
    sha256: str
    licence: str
    used_by: str


@functools.cache
def manifest() -> Mapping[str, ModelEntry]:
    """The manifest's entries by name."""
    try:
        raw = json.loads(MANIFEST.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError("model_missing", f"no model manifest at {MANIFEST}; {_FIX}") from None
    except (OSError, ValueError) as exc:
        raise ModelError("model_invalid", f"unreadable model manifest {MANIFEST}: {exc}") from None
    entries = {}
    for item in raw["models"]:
        entries[item["name"]] = ModelEntry(
            name=item["name"], file=item["file"], package=item["source"]["package"],
            version=item["source"]["version"], sha256=item["sha256"], licence=item["licence"],
            used_by=item.get("used_by", ""))
    return entries


def _package_root(package: str) -> Path:
    if package == "idverify":
        return MODELS_DIR.parent
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("model_missing", f"the package {package!r} that ships the model is not installed; {_FIX}")
    return Path(next(iter(spec.submodule_search_locations)))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_verified: dict[str, Path] = {}
_lock = threading.Lock()


def model_path(name: str) -> Path:
    """The verified path of model ``name`` (hash checked once per process)."""
    with _lock:
        if name in _verified:
            return _verified[name]
        try:
            entry = manifest()[name]
        except KeyError:
            raise ModelError("model_missing", f"{name!r} is not in {MANIFEST}") from None
        path = _package_root(entry.package) / entry.file
        if not path.is_file():
            raise ModelError("model_missing", f"{name}: no file at {path}; {_FIX}")
        actual = sha256_of(path)
        if actual != entry.sha256:
            raise ModelError("model_invalid",
                             f"{name}: {path} has sha256 {actual[:12]}…, the manifest says {entry.sha256[:12]}…; "
                             f"the file was altered or is another version; {_FIX}")
        _verified[name] = path
        return path


def verify_all() -> dict[str, str]:
    """Check every model in the manifest; returns name -> "ok" or the error text."""
    status = {}
    for name in manifest():
        try:
            model_path(name)
            status[name] = "ok"
        except ModelError as exc:
            status[name] = str(exc)
    return status


# Generated models: manifest name -> "module:function" that (re)builds the file
# from installed packages (no download). ``python -m idverify.models build``
# runs each builder whose output is missing.
BUILDERS: dict[str, str] = {
    "dlib_face_recognition_resnet_model_v1_onnx": "idverify.face.fast_encoder:build_model",
    "ocrb_glyphs": "idverify.ocr.glyphs:build_glyph_model",
}
# the environment a builder runs in, set before numpy loads: the glyph model's PCA depends in its last bits on the
# kernel OpenBLAS picks for the CPU (an AVX-512 machine's gives a file as good, with another checksum)
BUILD_ENV: dict[str, dict[str, str]] = {"ocrb_glyphs": {"OPENBLAS_CORETYPE": "Haswell"}}


def run_builder(name: str, *args: str) -> None:
    """Run generated model ``name``'s builder (:data:`BUILDERS`, given ``args``) in a process of its own with its
    :data:`BUILD_ENV`."""
    module_name, func_name = BUILDERS[name].split(":")
    code = f"import importlib; getattr(importlib.import_module({module_name!r}), {func_name!r})(*{list(args)!r})"
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, **BUILD_ENV.get(name, {})})


def build_missing() -> list[str]:
    """Build every generated model whose file is missing (:func:`run_builder`); returns the names built."""
    built = []
    for name in BUILDERS:
        entry = manifest()[name]
        if (_package_root(entry.package) / entry.file).is_file():
            continue
        run_builder(name)
        built.append(name)
    return built


if __name__ == "__main__":  # python -m idverify.models [build]
    if sys.argv[1:] == ["build"]:
        for model in build_missing():
            print(f"built {model}")
        sys.exit(0)
    results = verify_all()
    for model, state in results.items():
        print(f"{model}: {state}")
    sys.exit(0 if all(v == "ok" for v in results.values()) else 1)
