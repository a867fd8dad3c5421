"""Liveness with the real engine (dlib landmarks, encoder, OpenCV, ffmpeg) on synthetic clips, and bad input.

Uses the committed synthetic clip set (samples/clips, made by idverify.synth.clips) when present, and
small clips built here from a public-domain portrait with simple warps.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from idverify.cli import main as cli_main
from idverify.config import MediaLimits
from idverify.errors import InputError
from idverify.liveness import check_liveness
from idverify.media import load_clip
from idverify.synth.portraits import load_portrait
from tests.conftest import DATA, needs_data, write_clip

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "clips"
needs_samples = pytest.mark.skipif(not (SAMPLES / "bona_fide_astronaut_2.mp4").exists(),
                                   reason="needs the committed synthetic clips (samples/clips)")


def portrait_frames(count: int, warp: str, size: tuple[int, int] = (360, 480)) -> list[np.ndarray]:
    """A portrait filmed as a still picture: ``static`` (sensor noise only) or ``tilted`` (a print moved around)."""
    width, height = size
    face = cv2.resize(load_portrait("grace_hopper"), (round(width * 0.7), round(height * 0.7)))
    sheet = cv2.copyMakeBorder(face, 12, 12, 12, 12, cv2.BORDER_CONSTANT, value=(245, 243, 238))
    sh, sw = sheet.shape[:2]
    corners = np.float32([[0, 0], [sw, 0], [sw, sh], [0, sh]])
    rng = np.random.default_rng(5)
    background = np.full((height, width, 3), (120, 140, 150), np.uint8)
    frames = []
    for i in range(count):
        phase = 2 * np.pi * i / count
        tilt = 0.0 if warp == "static" else 0.12 * np.sin(phase)
        x0 = (width - sw) / 2 + (0 if warp == "static" else 15 * np.sin(phase))
        y0 = (height - sh) / 2
        inset, lift = tilt * sw / 2, tilt * sh / 4
        dst = np.float32([[x0 + inset, y0 + lift], [x0 + sw - inset, y0 - lift],
                          [x0 + sw - inset, y0 + sh + lift], [x0 + inset, y0 + sh - lift]])
        homography = cv2.getPerspectiveTransform(corners, dst)
        frame = cv2.warpPerspective(sheet, homography, (width, height), dst=background.copy(),
                                    borderMode=cv2.BORDER_TRANSPARENT)
        noisy = frame.astype(np.float32) + rng.normal(0, 2.0, frame.shape)
        frames.append(np.clip(noisy, 0, 255).astype(np.uint8))
    return frames


def test_still_picture_is_rejected(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "static.mp4", portrait_frames(30, "static"))
    result = check_liveness(clip)
    assert not result.live
    # no blink and, depending on the noise, frozen frames or the paper's border around the face
    assert set(result.reasons) & {"no_blink", "frozen_frames", "print_attack"}
    assert result.cues["face_present"].passed and result.cues["single_face"].passed
    assert result.cues["blink"].score == 0


def test_print_moved_around_is_rejected_and_bytes_equal_path(tmp_path: Path) -> None:
    path = write_clip(tmp_path / "print.mp4", portrait_frames(36, "tilted"))
    result = check_liveness(path)
    assert not result.live and result.reasons
    again = check_liveness(path.read_bytes())
    assert again.live == result.live and again.reasons == result.reasons
    decoded = load_clip(path)
    assert check_liveness(path, clip=decoded).reasons == result.reasons


@needs_samples
@pytest.mark.parametrize(("name", "live", "reason"), [
    ("bona_fide_astronaut_2", True, None),
    ("attack_looped_frames", False, "looped_frames"),
    ("attack_face_swap", False, "identity_changed"),
])
def test_committed_synthetic_clips(name: str, live: bool, reason: str | None) -> None:
    truth = json.loads((SAMPLES / f"{name}.json").read_text())
    result = check_liveness(SAMPLES / f"{name}.mp4")
    assert result.live is live, result.reasons
    assert truth["expected"]["live"] is live
    if reason:
        assert reason in result.reasons
    else:
        blink = result.cues["blink"]
        # blinks found where the generator put them (within 0.25 s)
        times = [b["start"] for b in truth["blinks"]]
        stamps = [f / truth["fps"] for f in blink.evidence["frames"]]
        assert any(abs(s - t) < 0.5 for s in stamps for t in times)
    json.dumps(result.to_dict())  # serialisable as is


def test_cli_liveness_json_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_clip(tmp_path / "static.mp4", portrait_frames(30, "static"))
    assert cli_main(["liveness", str(path), "--json"]) == 1
    payload = json.loads(capsys.readouterr().out)
    assert payload["live"] is False and payload["reasons"] and "blink" in payload["cues"]
    (tmp_path / "text.mp4").write_text("not a video at all")
    assert cli_main(["liveness", str(tmp_path / "text.mp4"), "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["reason"] == "video_format_unsupported"


def test_bad_input_raises_typed_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError) as empty:
        check_liveness(b"")
    assert empty.value.reason == "input_empty"
    with pytest.raises(InputError):
        check_liveness(tmp_path / "missing.mp4")
    with pytest.raises(InputError) as image:
        check_liveness(cv2.imencode(".png", load_portrait("astronaut"))[1].tobytes())
    assert image.value.reason == "video_format_unsupported"
    path = write_clip(tmp_path / "clip.mp4", portrait_frames(30, "static"))
    with pytest.raises(InputError) as long_clip:
        check_liveness(path, limits=MediaLimits(max_video_seconds=0.8, min_video_seconds=0.1))
    assert long_clip.value.reason == "video_too_long"
    window = check_liveness(path, limits=MediaLimits(analysis_seconds=0.6, min_video_seconds=0.1))
    assert window.details["trimmed"] and window.details["analysed_s"] == pytest.approx(0.6, abs=0.05)
    assert window.details["frames_analysed"] == 15 and window.details["duration_s"] == pytest.approx(1.2, abs=0.05)
    data = path.read_bytes()
    truncated = data[: len(data) // 3]
    try:
        result = check_liveness(truncated)
    except InputError as exc:  # nothing decodable: a typed error, never an OpenCV traceback
        assert exc.reason in ("video_corrupt", "video_too_short", "input_empty")
    else:
        assert not result.live


@needs_data
def test_real_replay_attack_is_rejected() -> None:
    result = check_liveness(DATA / "manikantha_face_liveness" / "videos" / "fake.mp4")
    assert not result.live
