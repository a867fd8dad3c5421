"""Evidence vault: an activation's biometric files (card images, clip, crops, reports) on disk.

One ``0700`` folder per activation, one sub-folder per identity attempt.
Everything in it is biometric and is deleted by the retention purge
(:mod:`idverify.flow.retention`); the database only keeps file *names*.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from idverify.errors import InputError, UsageError
from idverify.results import to_jsonable

_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
Source = bytes | bytearray | str | os.PathLike[str]

# Keys whose values are biometric templates or raw pixels: never written, even to the vault.
BIOMETRIC_KEYS = frozenset({"embedding", "embeddings", "encoding", "encodings", "descriptor", "descriptors",
                            "face_encoding", "face_embedding", "template", "pixels", "frames", "image"})


def sniff_suffix(head: bytes) -> str:
    """A file suffix from magic bytes (the verifier sniffs again; this only names the file).

    >>> sniff_suffix(b"\\xff\\xd8\\xff\\xe0"), sniff_suffix(b"\\x00\\x00\\x00\\x18ftypmp42"), sniff_suffix(b"??")
    ('.jpg', '.mp4', '.bin')
    """
    if head.startswith(b"\xff\xd8\xff"):
        return ".jpg"
    if head.startswith(b"\x89PNG"):
        return ".png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ".webp"
    if head[:4] == b"RIFF" and head[8:11] == b"AVI":
        return ".avi"
    if head[4:8] == b"ftyp":
        return ".mov" if head[8:10] == b"qt" else ".mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return ".webm" if b"webm" in head[:64] else ".mkv"
    return ".bin"


def scrub(value: Any) -> Any:
    """A JSON-able copy of ``value`` without biometric keys (embeddings, pixels, frames).

    >>> scrub({"distance": 0.4, "embedding": [0.1] * 128, "nested": [{"encoding": [1.0]}]})
    {'distance': 0.4, 'nested': [{}]}
    """
    value = to_jsonable(value)
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items() if k.lower() not in BIOMETRIC_KEYS}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


class EvidenceVault:
    """Biometric files under ``root/<activation id>/attempt-<n>/``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)

    def activation_dir(self, activation_id: str) -> Path:
        if not _ID.match(activation_id):
            raise UsageError("usage_error", "not an activation id")
        return self.root / activation_id

    def attempt_dir(self, activation_id: str, n: int) -> Path:
        path = self.activation_dir(activation_id) / f"attempt-{int(n)}"
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        return path

    def put(self, folder: Path, name: str, source: Source, max_bytes: int) -> Path:
        """Copy ``source`` (bytes or a path) to ``folder/name<suffix>``; ``InputError`` if unusable."""
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # a purge may have swept it meanwhile
        if isinstance(source, (bytes, bytearray)):
            data = bytes(source)
            if not data:
                raise InputError("input_empty", f"{name} is empty")
            if len(data) > max_bytes:
                raise InputError("file_too_large", f"{name} is larger than {max_bytes} bytes")
            target = folder / (name + sniff_suffix(data[:64]))
            _write_private(target, data)
            return target
        if isinstance(source, (str, os.PathLike)):
            path = Path(source)
            if not path.is_file():
                raise InputError("file_not_found", f"{name}: no file at {path}")
            size = path.stat().st_size
            if size == 0:
                raise InputError("input_empty", f"{name} is empty")
            if size > max_bytes:
                raise InputError("file_too_large", f"{name} is larger than {max_bytes} bytes")
            with path.open("rb") as fh:
                head = fh.read(64)
            target = folder / (name + sniff_suffix(head))
            shutil.copyfile(path, target)
            os.chmod(target, 0o600)
            return target
        raise InputError("input_type", f"{name} must be bytes or a path")

    def write_report(self, folder: Path, report: Mapping[str, Any]) -> Path:
        """The full (scrubbed) report as ``report.json`` next to the evidence."""
        target = folder / "report.json"
        _write_private(target, json.dumps(scrub(report), sort_keys=True).encode())
        return target

    def read_report(self, activation_id: str, n: int) -> dict[str, Any] | None:
        path = self.activation_dir(activation_id) / f"attempt-{int(n)}" / "report.json"
        try:
            data: dict[str, Any] = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        return data

    def files(self, folder: Path) -> tuple[str, ...]:
        """Names (relative to the activation folder) of the files in an attempt folder."""
        base = folder.parent
        return tuple(sorted(str(p.relative_to(base)) for p in _entries(folder) if p.is_file()))

    def remove_attempt(self, activation_id: str, n: int) -> int:
        return _unlink_all(self.activation_dir(activation_id) / f"attempt-{int(n)}")

    def purge(self, activation_id: str) -> int:
        """Delete every file of the activation; the number of files removed.

        Only the files (the data) go at once; the empty folders are removed by
        :meth:`sweep_empty` in the purge job (``rmdir`` costs ~4 ms on this disk).
        """
        return _unlink_all(self.activation_dir(activation_id))

    def sweep_empty(self, activation_ids: list[str]) -> int:
        """Remove those activation folders that hold no file any more; the number removed."""
        removed = 0
        for name in activation_ids:
            folder = self.activation_dir(name)
            if folder.is_dir() and not any(p.is_file() for p in _entries(folder)):
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        return removed

    def activation_ids(self) -> list[str]:
        """Activation folders present on disk."""
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and _ID.match(p.name))

    def has_files(self, activation_id: str) -> bool:
        folder = self.activation_dir(activation_id)
        return folder.is_dir() and any(p.is_file() for p in _entries(folder))


def _write_private(target: Path, data: bytes) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _entries(path: Path) -> Iterator[Path]:
    """Everything below ``path`` but its sub-folders (files, links). Several processes share the vault: a
    folder another one removes meanwhile is skipped (``Path.rglob`` raises ``FileNotFoundError`` there)."""
    for folder, dirs, names in os.walk(path):
        yield from (Path(folder) / n for n in names)
        yield from (Path(folder) / d for d in dirs if os.path.islink(os.path.join(folder, d)))


def _unlink_all(path: Path) -> int:
    if not path.is_dir():
        return 0
    count = 0
    for p in _entries(path):
        if p.is_file() or p.is_symlink():
            p.unlink(missing_ok=True)
            count += 1
    return count
