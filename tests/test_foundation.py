"""Package-wide guarantees: lazy import, one reason table, frozen results, model manifest."""

from __future__ import annotations

import ast
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

import idverify
from idverify import models
from idverify.errors import IdVerifyError, InputError, ModelError
from idverify.reasons import REASONS, markdown_table
from idverify.results import Check, Report

PACKAGE = Path(idverify.__file__).resolve().parent
REASON_CALLS = {"Check": (2, "reason"), "InputError": (0, "reason"), "UsageError": (0, "reason"),
                "EngineError": (0, "reason"), "ModelError": (0, "reason"), "InvalidNIR": (0, "reason"),
                "InvalidTransition": (0, "reason"), "IdVerifyError": (0, "reason")}


def test_import_is_light() -> None:
    code = ("import sys, idverify; heavy = {'cv2', 'dlib', 'face_recognition', 'tesserocr', 'PIL'} & set(sys.modules);"
            "print(sorted(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_public_names_resolve() -> None:
    for name in ("compare_faces", "Check", "Report", "IdVerifyError"):
        assert getattr(idverify, name) is not None
    with pytest.raises(AttributeError):
        idverify.no_such_name  # noqa: B018


def _string_constants(node: ast.AST) -> list[str]:
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def test_every_reason_code_used_is_in_the_table() -> None:
    unknown = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            name = call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", "")
            if name not in REASON_CALLS:
                continue
            position, keyword = REASON_CALLS[name]
            nodes = [call.args[position]] if len(call.args) > position else []
            nodes += [k.value for k in call.keywords if k.arg == keyword]
            for node in nodes:
                for code in _string_constants(node):
                    if code not in REASONS:
                        unknown.append(f"{path.relative_to(PACKAGE)}:{call.lineno}: {code}")
    assert not unknown, unknown


def test_reason_codes_are_snake_case_and_documented() -> None:
    for code, text in REASONS.items():
        assert code.isidentifier() and code == code.lower(), code
        assert text and text[0].islower(), code
    assert markdown_table().count("\n") == len(REASONS) + 2


def test_results_are_frozen_and_serialisable() -> None:
    check = Check("x", False, "face_mismatch", score=float("nan"), evidence={"frames": (1, 2)})
    with pytest.raises(dataclasses.FrozenInstanceError):
        check.passed = True  # type: ignore[misc]
    with pytest.raises(TypeError):
        check.evidence["new"] = 1  # type: ignore[index]
    report = Report("r", [check, Check("y", True)])
    data = json.loads(json.dumps(report.to_dict()))
    assert data["passed"] is False and data["reasons"] == ["face_mismatch"]
    assert data["checks"][0]["score"] is None and data["checks"][0]["evidence"] == {"frames": [1, 2]}
    assert not Report("empty", ()).passed


def test_error_tree() -> None:
    err = InputError("image_corrupt", "bad bytes")
    assert isinstance(err, IdVerifyError) and isinstance(err, ValueError)
    assert str(err) == "image_corrupt: bad bytes" and err.reason == "image_corrupt"


def test_manifest_lists_every_model_with_provenance() -> None:
    for entry in models.manifest().values():
        assert len(entry.sha256) == 64 and entry.licence and entry.version
    assert all(state == "ok" for state in models.verify_all().values())


def test_altered_or_missing_model_names_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = json.loads(models.MANIFEST.read_text())
    raw["models"][0]["sha256"] = "0" * 64
    raw["models"][1]["file"] = "models/nowhere.dat"
    fake = tmp_path / "manifest.json"
    fake.write_text(json.dumps(raw))
    monkeypatch.setattr(models, "MANIFEST", fake)
    monkeypatch.setattr(models, "_verified", {})
    models.manifest.cache_clear()
    try:
        with pytest.raises(ModelError) as altered:
            models.model_path(raw["models"][0]["name"])
        assert altered.value.reason == "model_invalid" and "setup.sh" in altered.value.message
        with pytest.raises(ModelError) as missing:
            models.model_path(raw["models"][1]["name"])
        assert missing.value.reason == "model_missing" and "setup.sh" in missing.value.message
    finally:
        models.manifest.cache_clear()


def test_reason_table_document_is_up_to_date() -> None:
    doc = (PACKAGE.parent / "docs" / "REASONS.md").read_text(encoding="utf-8")
    assert doc.endswith(markdown_table()), "regenerate: python -m idverify.reasons > docs/REASONS.md"
