"""Face comparison: selection/fusion logic on the fake engine, and the real dlib engine on public-domain portraits."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import cv2
import numpy as np
import pytest

from idverify import compare_faces
from idverify.cli import main as cli_main
from idverify.config import FaceConfig
from idverify.errors import InputError
from idverify.face.fake import FakeEngine, fake_frame
from idverify.media import Clip, VideoInfo
from idverify.synth.portraits import load_portrait
from tests.conftest import write_clip


def fake_clip(frames: list[np.ndarray]) -> Clip:
    info = VideoInfo(width=frames[0].shape[1], height=frames[0].shape[0], fps=25.0, frame_count=len(frames),
                     duration=len(frames) / 25, rotation=0, codec="fake", container="mp4", file_bytes=0)
    return Clip(frames=tuple(frames), timestamps=tuple(i / 25 for i in range(len(frames))),
                indexes=tuple(range(len(frames))), info=info, scale=1.0, decoded_frames=len(frames), truncated=False)


# ---------------------------------------------------------------- logic, fake engine


def test_clip_selection_encodes_only_the_best_few_frames() -> None:
    engine = FakeEngine()
    frames = [fake_frame(5) for _ in range(40)]
    result = compare_faces(fake_frame(5), fake_clip(frames), engine=engine)
    assert result.match and result.probe_kind == "clip"
    assert len(result.frames_used) == FaceConfig().clip_encoded
    assert engine.encoded == 1 + FaceConfig().clip_encoded  # reference + fused frames, nothing else
    assert len(result.frames_examined) <= 2 * FaceConfig().clip_encoded


def test_frames_without_a_single_face_are_skipped() -> None:
    frames = [fake_frame(0) for _ in range(6)] + [fake_frame(5, faces=2) for _ in range(2)] + \
             [fake_frame(5) for _ in range(4)]
    result = compare_faces(fake_frame(5), fake_clip(frames), engine=FakeEngine(),
                           config=FaceConfig(clip_candidates=12, clip_encoded=2))
    assert result.match
    assert all(i >= 8 for i in result.frames_used)


def test_closed_eyes_rank_below_open_eyes() -> None:
    frames = [fake_frame(5, eyes_open=False) for _ in range(6)] + [fake_frame(5) for _ in range(6)]
    result = compare_faces(fake_frame(5), fake_clip(frames), engine=FakeEngine(),
                           config=FaceConfig(clip_candidates=12, clip_encoded=2))
    assert all(i >= 6 for i in result.frames_used)


@pytest.mark.parametrize(
    ("reference", "frames", "reason"),
    [
        (fake_frame(0), [fake_frame(5)] * 8, "no_face_reference"),
        (fake_frame(5, faces=2), [fake_frame(5)] * 8, "multiple_faces_reference"),
        (fake_frame(5), [fake_frame(0)] * 8, "no_face_probe"),
        (fake_frame(5), [fake_frame(5, faces=2)] * 8, "multiple_faces_probe"),
        (fake_frame(5), [fake_frame(5, face_fraction=0.05)] * 8, "face_too_small_probe"),
        (fake_frame(5, face_fraction=0.05), [fake_frame(5)] * 8, "face_too_small_reference"),
        (fake_frame(5), [fake_frame(6)] * 8, "face_mismatch"),
    ],
)
def test_failures_are_results_with_reasons(reference: np.ndarray, frames: list[np.ndarray], reason: str) -> None:
    result = compare_faces(reference, fake_clip(frames), engine=FakeEngine(),
                           config=FaceConfig(clip_candidates=8, clip_encoded=4))
    assert not result.match
    assert reason in result.reasons
    json.dumps(result.to_dict())


def test_several_people_in_the_clip_fail_consistency() -> None:
    frames = [fake_frame(5), fake_frame(9)] * 4
    result = compare_faces(fake_frame(5), fake_clip(frames), engine=FakeEngine(),
                           config=FaceConfig(clip_candidates=8, clip_encoded=8))
    assert not result.match and "probe_identity_inconsistent" in result.reasons


def test_image_probe_and_result_shape() -> None:
    result = compare_faces(fake_frame(5), fake_frame(5), engine=FakeEngine())
    data = result.to_dict()
    assert data["match"] is True and data["probe_kind"] == "image" and data["threshold"] == result.threshold
    assert {c["name"] for c in data["checks"]} == {"reference_face", "probe_face", "face_match"}
    failed = compare_faces(fake_frame(0), fake_frame(5), engine=FakeEngine()).to_dict()
    assert failed["distance"] is None and failed["match"] is False


# ---------------------------------------------------------------- real engine


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return load_portrait("astronaut")


@pytest.fixture(scope="module")
def hopper() -> np.ndarray:
    return load_portrait("grace_hopper")


def _card_like(portrait: np.ndarray) -> np.ndarray:
    """A small, slightly blurred, JPEG-degraded portrait, like one cut from an ID card photo."""
    small = cv2.resize(portrait, (portrait.shape[1] * 140 // portrait.shape[0], 140), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (3, 3), 0.8)
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 60])
    assert ok
    return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def test_real_engine_same_person_matches_and_different_people_do_not(astronaut: np.ndarray,
                                                                       hopper: np.ndarray) -> None:
    same = compare_faces(_card_like(astronaut), astronaut)
    assert same.match, same.to_dict()
    assert "face_recognition" in same.engine
    other = compare_faces(_card_like(astronaut), hopper)
    assert not other.match and other.reasons == ("face_mismatch",)
    assert other.distance > same.distance + 0.2


def test_real_engine_clip_probe(astronaut: np.ndarray, hopper: np.ndarray, tmp_path: Path) -> None:
    canvas = np.full((360, 480, 3), 90, np.uint8)
    face = cv2.resize(astronaut, (218, 272))
    frames = []
    for i in range(40):
        frame = canvas.copy()
        x, y = 120 + (i % 10), 40 + (i % 7)
        frame[y:y + 272, x:x + 218] = face
        frames.append(frame)
    clip = write_clip(tmp_path / "selfie.mp4", frames, fps=20.0)
    result = compare_faces(astronaut, clip)
    assert result.match and result.probe_kind == "clip" and len(result.frames_used) >= 2
    assert set(result.timings_ms) >= {"decode", "detect", "landmarks", "encode"}
    assert not compare_faces(hopper, clip.read_bytes()).match


def test_real_engine_no_face_and_two_faces(astronaut: np.ndarray, hopper: np.ndarray) -> None:
    blank = np.full((300, 300, 3), 128, np.uint8)
    assert compare_faces(blank, astronaut).reasons == ("no_face_reference",)
    pair = np.hstack([cv2.resize(astronaut, (280, 350)), cv2.resize(hopper, (280, 350))])
    assert "multiple_faces_probe" in compare_faces(astronaut, pair).reasons
    tiny = FaceConfig(min_face_px=400)
    assert "face_too_small_reference" in compare_faces(astronaut, astronaut, config=tiny).reasons


def test_bad_input_raises_typed_errors(astronaut: np.ndarray, tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        compare_faces(b"not an image", astronaut)
    assert info.value.reason == "image_format_unsupported"
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\0\0\0\x18ftypmp42" + b"\0" * 500)
    with pytest.raises(InputError):
        compare_faces(astronaut, broken)


def test_nothing_biometric_in_logs_or_results(astronaut: np.ndarray, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    result = compare_faces(astronaut, astronaut)
    text = json.dumps(result.to_dict())
    assert "[" not in caplog.text  # no array-like payload logged
    assert all(len(v) < 20 for v in _lists(json.loads(text)))  # no 128-d embedding in the result


def _lists(value: object) -> list[list[object]]:
    found: list[list[object]] = []
    if isinstance(value, list):
        found.append(value)
        for item in value:
            found += _lists(item)
    elif isinstance(value, dict):
        for item in value.values():
            found += _lists(item)
    return found


def test_cli_match_exit_codes(astronaut: np.ndarray, hopper: np.ndarray, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    cv2.imwrite(str(a), cv2.cvtColor(astronaut, cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(b), cv2.cvtColor(hopper, cv2.COLOR_RGB2BGR))
    assert cli_main(["match", str(a), str(a), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["match"] is True
    assert cli_main(["match", str(a), str(b), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["reasons"] == ["face_mismatch"]
    assert cli_main(["match", str(a), str(tmp_path / "missing.png"), "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["reason"] == "file_not_found"
    assert cli_main(["match", str(a)]) == 2
