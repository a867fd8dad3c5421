"""Fast face encoder: dlib's ResNet read from its .dat and run by onnxruntime, checked against dlib itself."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from idverify import models
from idverify.errors import ModelError, UsageError
from idverify.face import engine as engine_mod
from idverify.face import fast_encoder
from idverify.face.dlib_dat import read_face_resnet
from idverify.face.engine import DlibChipEncoder, FaceRecognitionEngine
from idverify.face.fast_encoder import (
    MODEL_NAME,
    SOURCE_MODEL,
    OnnxChipEncoder,
    OpenCvChipEncoder,
    build_model,
    jitter_chips,
    load_fast_encoder,
)
from idverify.synth.portraits import load_portrait

PARITY = 1e-4  # max abs difference per embedding component (dlib's calibrated thresholds stay valid)


@pytest.fixture(scope="module")
def dlib_engine() -> FaceRecognitionEngine:
    engine = FaceRecognitionEngine()  # dlib's own encoder
    assert engine.version.endswith("encoder dlib")
    return engine


@pytest.fixture(scope="module")
def fast() -> OnnxChipEncoder:
    encoder = load_fast_encoder(threads=1)
    assert encoder is not None, "run `python -m idverify.models build` (scripts/setup.sh does)"
    return encoder


@pytest.fixture(scope="module")
def chips(dlib_engine: FaceRecognitionEngine) -> list[np.ndarray]:
    """Real aligned chips of the bundled portraits, plus jittered, mirrored and darkened copies."""
    out = []
    for name in ("astronaut", "grace_hopper"):
        image = load_portrait(name)
        boxes = dlib_engine.detect(image)
        assert boxes, name
        out.append(dlib_engine.align(image, boxes[0]))
    rng = np.random.default_rng(7)
    out += list(jitter_chips(out[0], 2, rng)) + list(jitter_chips(out[1], 2, rng))
    out.append(np.ascontiguousarray(out[0][:, ::-1]))
    out.append((out[1] * 0.6).astype(np.uint8))
    return out


def test_reader_finds_dlibs_network_in_the_dat() -> None:
    net = read_face_resnet(models.model_path(SOURCE_MODEL))
    assert net.input_size == 150
    assert np.allclose(net.mean_rgb, (122.782, 117.001, 104.298), atol=1e-4)
    convs = [s for s in net.steps if s.kind == "con"]
    assert len(convs) == 29
    assert convs[0].filters is not None and convs[0].filters.shape == (32, 3, 7, 7)
    assert [s.kind for s in net.steps].count("add_prev") == 14
    assert net.steps[-1].weights is not None and net.steps[-1].weights.shape == (256, 128)


def test_reader_rejects_other_files(tmp_path: Path) -> None:
    data = models.model_path(SOURCE_MODEL).read_bytes()
    for name, blob in (("truncated.dat", data[: len(data) // 2]), ("padded.dat", data + b"\x01\x00"),
                       ("other.dat", models.model_path("shape_predictor_5_face_landmarks").read_bytes()[:4096])):
        path = tmp_path / name
        path.write_bytes(blob)
        with pytest.raises(ModelError):
            read_face_resnet(path)


def test_conversion_is_deterministic_and_matches_the_manifest(tmp_path: Path) -> None:
    built = build_model(tmp_path / "model.onnx")
    entry = models.manifest()[MODEL_NAME]
    assert models.sha256_of(built) == entry.sha256  # rebuilt from the verified .dat: byte-identical
    assert built.stat().st_size == models.model_path(MODEL_NAME).stat().st_size
    assert MODEL_NAME in models.BUILDERS


def test_embeddings_match_dlib_on_real_faces(dlib_engine: FaceRecognitionEngine, fast: OnnxChipEncoder,
                                             chips: list[np.ndarray]) -> None:
    reference = dlib_engine.encode(chips)
    ours = fast.encode(chips)
    assert ours.shape == (len(chips), 128) and ours.dtype == np.float64
    assert np.abs(ours - reference).max() < PARITY
    # and the identities still separate: the two portraits are far apart, a flipped chip is close
    assert np.linalg.norm(ours[0] - ours[1]) > 0.6
    assert np.linalg.norm(ours[0] - ours[6]) < 0.3


def test_opencv_runtime_matches_dlib_too(dlib_engine: FaceRecognitionEngine, chips: list[np.ndarray]) -> None:
    encoder = load_fast_encoder(runtime="opencv")
    assert isinstance(encoder, OpenCvChipEncoder) and "opencv-dnn" in encoder.name
    assert np.abs(encoder.encode(chips[:3]) - dlib_engine.encode(chips[:3])).max() < PARITY


def test_without_onnxruntime_the_opencv_runtime_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing() -> None:
        raise ImportError("no onnxruntime")

    monkeypatch.setattr(fast_encoder, "_onnxruntime", missing)
    assert isinstance(load_fast_encoder(), OpenCvChipEncoder)


def test_chips_must_be_the_networks_input_size(fast: OnnxChipEncoder) -> None:
    with pytest.raises(UsageError):
        fast.encode([np.zeros((120, 120, 3), np.uint8)])
    with pytest.raises(UsageError):
        load_fast_encoder(runtime="torch")


def test_batches_give_the_same_embeddings_as_single_chips(fast: OnnxChipEncoder, chips: list[np.ndarray]) -> None:
    batch = fast.encode(chips)
    singles = np.concatenate([fast.encode([c]) for c in chips])
    assert np.abs(batch - singles).max() < 1e-5
    assert fast.encode([]).shape == (0, 128)


def test_jitter_averages_augmented_copies(dlib_engine: FaceRecognitionEngine, fast: OnnxChipEncoder,
                                          chips: list[np.ndarray]) -> None:
    plain = fast.encode(chips[:2])
    jittered = fast.encode(chips[:2], jitters=6)
    assert np.array_equal(jittered, fast.encode(chips[:2], jitters=6))  # fixed seed: reproducible evidence
    assert np.array_equal(fast.encode(chips[:2], jitters=1), plain)  # dlib: num_jitters <= 1 is no jitter
    for i in range(2):
        assert 0.02 < np.linalg.norm(jittered[i] - plain[i]) < 0.3
    # the same kind of augmentation as dlib's jitter_image (its random draws differ): with 16 copies
    # each, the two averages land close together (measured ~0.02 apart with 64 copies)
    dlib_jittered = DlibChipEncoder(dlib_engine._encoder._encoder).encode(chips[:1], jitters=16)
    assert np.linalg.norm(fast.encode(chips[:1], jitters=16)[0] - dlib_jittered[0]) < 0.12


def test_falls_back_to_dlib_when_the_converted_model_is_missing(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    models.manifest()
    monkeypatch.setattr(models, "MODELS_DIR", tmp_path / "models")
    monkeypatch.setattr(models, "_verified", {})
    assert load_fast_encoder() is None
    monkeypatch.setattr(engine_mod, "_default", None)
    engine = engine_mod.default_engine()
    assert engine.version.endswith("encoder dlib")


def test_an_altered_converted_model_is_refused_with_a_warning(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    models.manifest()
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / Path(models.manifest()[MODEL_NAME].file).name).write_bytes(b"not a model")
    monkeypatch.setattr(models, "MODELS_DIR", tmp_path / "models")
    monkeypatch.setattr(models, "_verified", {})
    with pytest.warns(RuntimeWarning, match="fast face encoder disabled"):
        assert load_fast_encoder() is None


def test_default_engine_uses_the_fast_encoder_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_mod, "_default", None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        engine = engine_mod.default_engine()
    assert "encoder dlib-resnet-v1 onnxruntime" in engine.version
