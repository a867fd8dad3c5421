"""Synthetic selfie clips: determinism, format, and ground truth checked on the pixels with the face engine."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from idverify.errors import UsageError
from idverify.face.engine import default_engine
from idverify.media import load_clip, probe_video
from idverify.reasons import REASONS
from idverify.synth.clips import (
    ATTACK_REASONS,
    ATTACK_TYPES,
    PLAN,
    GeneratedClip,
    make_attack_clip,
    make_bona_fide_clip,
    save_clip,
    write_clip,
)
from idverify.synth.clips.rig import FaceRig, Pose

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples" / "clips"
SMALL = (240, 320)


def _ear(marks: np.ndarray) -> float:
    def one(eye: np.ndarray) -> float:
        return float((np.linalg.norm(eye[1] - eye[5]) + np.linalg.norm(eye[2] - eye[4]))
                     / (2 * np.linalg.norm(eye[0] - eye[3])))
    return (one(marks[36:42]) + one(marks[42:48])) / 2


def _landmarks(frame: np.ndarray) -> np.ndarray | None:
    engine = default_engine()
    boxes = engine.detect(frame)
    return engine.landmarks(frame, boxes[0]) if boxes else None


def _embedding(frame: np.ndarray) -> np.ndarray:
    engine = default_engine()
    box = engine.detect(frame, upsample=1)[0]
    return engine.encode([engine.align(frame, box)])[0]


def _homography_residual(a: np.ndarray, b: np.ndarray) -> float:
    """RMS error of the best homography between two landmark sets, in inter-ocular distances."""
    h, _ = cv2.findHomography(a, b, 0)
    mapped = cv2.perspectiveTransform(a[None].astype(np.float64), h)[0]
    iod = float(np.linalg.norm(a[36:42].mean(axis=0) - a[42:48].mean(axis=0)))
    return float(np.sqrt(np.mean(np.sum((mapped - b) ** 2, axis=1))) / iod)


@pytest.fixture(scope="module")
def bona_fide() -> GeneratedClip:
    return make_bona_fide_clip("astronaut", 3, size=(480, 640), fps=25, duration=3.0)


# ------------------------------------------------------------------- determinism


@pytest.mark.parametrize("kind", ["bona_fide", *ATTACK_TYPES])
def test_same_seed_same_frames(kind: str) -> None:
    def make(seed: int) -> GeneratedClip:
        if kind == "bona_fide":
            return make_bona_fide_clip("grace_hopper", seed, size=SMALL, duration=0.6)
        return make_attack_clip(kind, seed, size=SMALL if kind != "two_faces" else (320, 240), duration=0.6)

    a, b, c = make(5), make(5), make(6)
    assert len(a.frames) == len(b.frames) == 15
    assert all(np.array_equal(x, y) for x, y in zip(a.frames, b.frames, strict=True))
    assert a.truth == b.truth
    assert any(not np.array_equal(x, y) for x, y in zip(a.frames, c.frames, strict=True))


def test_same_frames_same_bytes(tmp_path: Path) -> None:
    clip = make_bona_fide_clip("astronaut", 1, size=SMALL, duration=0.8)
    one, _ = save_clip(clip, tmp_path / "a.mp4")
    two, _ = save_clip(clip, tmp_path / "b.mp4")
    assert one.read_bytes() == two.read_bytes()


# ------------------------------------------------------------------------ format


def test_encoded_clip_format(tmp_path: Path, bona_fide: GeneratedClip) -> None:
    video, truth_path = save_clip(bona_fide, tmp_path / "selfie.mp4")
    truth = json.loads(truth_path.read_text())
    info = probe_video(video)
    assert (info.width, info.height, info.fps, info.frame_count) == (480, 640, 25.0, 75)
    assert info.codec == "h264" and info.container == "mp4"
    assert truth["duration"] == pytest.approx(info.duration) == 3.0
    assert truth["file"] == "selfie.mp4" and truth["audio"] is True
    clip = load_clip(video, max_side=None)
    assert len(clip) == 75 and clip.frames[0].shape == (640, 480, 3)
    # Decoded frames stay close to what was drawn (the encode is not destroying the content).
    assert float(np.mean(np.abs(clip.frames[40].astype(int) - bona_fide.frames[40].astype(int)))) < 6
    if shutil.which("ffprobe"):
        out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,codec_name,pix_fmt",
                              "-of", "json", str(video)], capture_output=True, text=True, check=True).stdout
        streams = {s["codec_type"]: s for s in json.loads(out)["streams"]}
        assert streams["video"]["pix_fmt"] == "yuv420p" and streams["audio"]["codec_name"] == "aac"


def test_writer_rejects_bad_frames(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        write_clip(tmp_path / "x.mp4", [], 25)
    with pytest.raises(UsageError):
        write_clip(tmp_path / "x.mp4", [np.zeros((31, 40, 3), np.uint8)], 25)
    with pytest.raises(UsageError):
        write_clip(tmp_path / "x.mp4", [np.zeros((32, 40, 3), np.uint8), np.zeros((32, 42, 3), np.uint8)], 25)
    assert not list(tmp_path.iterdir())  # nothing half-written
    with pytest.raises(UsageError):
        make_attack_clip("deepfake_3000", 0)
    with pytest.raises(UsageError):
        make_bona_fide_clip("someone_else", 0)


# ------------------------------------------------------------------ ground truth


def test_truth_tracks_are_complete_and_plausible(bona_fide: GeneratedClip) -> None:
    truth = bona_fide.truth
    n = truth["frame_count"]
    assert n == len(bona_fide.frames) == 75 and truth["expected"] == {"live": True, "reasons": [],
                                                                       "primary_reason": None}
    for key in ("yaw", "pitch", "roll"):
        assert len(truth["head_pose"][key]) == n
    assert max(abs(v) for v in truth["head_pose"]["yaw"]) <= 25
    assert max(truth["head_pose"]["yaw"]) - min(truth["head_pose"]["yaw"]) > 20  # real head motion
    assert len(truth["mouth_open"]) == len(truth["eye_closure"]) == n
    assert truth["blinks"] and all(0.1 <= b["end"] - b["start"] <= 0.3 for b in truth["blinks"])
    assert max(truth["mouth_open"]) > 0.3 and truth["speech"]


def test_attack_truth_uses_known_reason_codes() -> None:
    for kind, reasons in ATTACK_REASONS.items():
        assert reasons and all(r in REASONS for r in reasons), kind


def test_blinks_dip_the_eye_aspect_ratio_at_the_stated_times(bona_fide: GeneratedClip) -> None:
    truth = bona_fide.truth
    fps = truth["fps"]
    closure = np.asarray(truth["eye_closure"])
    open_frames = np.flatnonzero(closure == 0)[::5]
    open_ears = [_ear(m) for m in map(_landmarks, (bona_fide.frames[i] for i in open_frames)) if m is not None]
    assert len(open_ears) >= 0.9 * len(open_frames)  # the face is found in (nearly) every frame
    baseline = float(np.median(open_ears))
    for blink in truth["blinks"]:
        middle = round((blink["start"] + blink["end"]) / 2 * fps)
        marks = _landmarks(bona_fide.frames[middle])
        assert marks is not None
        assert _ear(marks) < 0.6 * baseline, (blink, _ear(marks), baseline)


def test_blink_on_the_glasses_portrait_dips_too() -> None:
    rig = FaceRig("grace_hopper", (480, 640))
    poses = [Pose(yaw=-12, pitch=4), Pose(yaw=9, pitch=-5), Pose(yaw=16, roll=3)]
    shut = [_landmarks(rig.render(p, closure=1.0)) for p in poses]
    opened = [_landmarks(rig.render(p, closure=0.0)) for p in poses]
    ratio = np.median([_ear(s) for s in shut if s is not None]) / np.median([_ear(o) for o in opened if o is not None])
    assert ratio < 0.75


def test_head_motion_has_parallax_a_print_does_not(bona_fide: GeneratedClip) -> None:
    def residual(clip: GeneratedClip) -> float:
        yaw = np.asarray(clip.truth["head_pose"]["yaw"])
        a, b = _landmarks(clip.frames[int(np.argmin(yaw))]), _landmarks(clip.frames[int(np.argmax(yaw))])
        assert a is not None and b is not None
        return _homography_residual(a, b)

    printed = make_attack_clip("printed_photo", 3, size=(480, 640), duration=3.0)
    assert printed.truth["pose_source"] == "plane"
    live, flat = residual(bona_fide), residual(printed)
    assert live > 0.07 and live > 1.4 * flat, (live, flat)


def test_face_swap_changes_identity_at_the_stated_frame() -> None:
    clip = make_attack_clip("face_swap", 2, size=(480, 640), duration=2.0)
    k = clip.truth["attack"]["swap_frame"]
    assert clip.truth["portraits"] == ["astronaut", "grace_hopper"]
    before = [_embedding(clip.frames[i]) for i in (k - 8, k - 1)]
    after = [_embedding(clip.frames[i]) for i in (k, k + 8)]
    assert np.linalg.norm(before[0] - before[1]) < 0.4 and np.linalg.norm(after[0] - after[1]) < 0.4
    across = np.linalg.norm(np.mean(before, axis=0) - np.mean(after, axis=0))
    assert across > 0.6, across


def test_frozen_and_looped_segments_match_the_truth(tmp_path: Path) -> None:
    frozen = make_attack_clip("frozen_frames", 4, size=SMALL, duration=3.0)
    seg = frozen.truth["attack"]["frozen"][0]
    a, b = seg["start_frame"], seg["end_frame"]
    assert b - a + 1 >= 25
    assert all(np.array_equal(frozen.frames[a], frozen.frames[i]) for i in range(a, b + 1))
    assert not np.array_equal(frozen.frames[b], frozen.frames[b + 1])
    assert len(set(frozen.truth["head_pose"]["yaw"][a:b + 1])) == 1
    # After encoding the frozen run is still (almost) static while the live part moves.
    video, _ = save_clip(frozen, tmp_path / "frozen.mp4")
    decoded = load_clip(video, max_side=None).frames
    still = max(float(np.mean(np.abs(decoded[i].astype(int) - decoded[i + 1].astype(int)))) for i in range(a, b))
    moving = np.median([float(np.mean(np.abs(decoded[i].astype(int) - decoded[i + 1].astype(int))))
                        for i in range(0, a - 1)])
    assert still < 0.5 * moving, (still, moving)

    looped = make_attack_clip("looped_frames", 4, size=SMALL, duration=3.0)
    loop = looped.truth["attack"]["looped"][0]
    length = loop["repeat_start_frame"] - loop["source_start_frame"]
    for i in range(loop["repeat_start_frame"], loop["repeat_end_frame"] + 1):
        assert np.array_equal(looped.frames[i], looped.frames[i - length])
    index = looped.truth["attack"]["frame_index"]
    assert index[loop["repeat_start_frame"]] == loop["source_start_frame"]
    # Blink truth follows the edit: none inside a frozen run, a looped blink listed twice.
    assert all(b["end_frame"] < a or b["start_frame"] > seg["end_frame"] for b in frozen.truth["blinks"])
    spans = {(b["start_frame"], b["end_frame"]) for b in looped.truth["blinks"]}
    for first, last in spans:
        if loop["source_start_frame"] <= first and last <= loop["source_end_frame"]:
            assert (first + length, last + length) in spans


def test_two_faces_are_both_detected() -> None:
    clip = make_attack_clip("two_faces", 1, size=(640, 480), duration=1.0)
    engine = default_engine()
    counts = [len(engine.detect(clip.frames[i])) for i in (0, 12, 24)]
    assert counts == [2, 2, 2]
    assert clip.truth["expected"]["reasons"] == ["multiple_faces"]


def test_static_photo_changes_only_by_noise() -> None:
    clip = make_attack_clip("static_photo", 0, size=SMALL, duration=1.0)
    diffs = [np.abs(clip.frames[0].astype(int) - f.astype(int)) for f in clip.frames[1:]]
    assert all(float(d.mean()) < 4 for d in diffs) and all(float(d.mean()) > 0.5 for d in diffs)
    assert clip.truth["blinks"] == [] and set(clip.truth["head_pose"]["yaw"]) == {0.0}


def test_screen_clips_are_detectable_faces_with_screen_truth() -> None:
    for kind in ("screen_photo", "screen_replay"):
        clip = make_attack_clip(kind, 0, size=(480, 640), duration=1.0)
        assert "screen_replay" in clip.truth["expected"]["reasons"]
        assert sum(_landmarks(clip.frames[i]) is not None for i in (0, 12, 24)) >= 2, kind
    assert clip.truth["blinks"] and clip.truth["pose_source"] == "replayed_head"  # the replayed person blinks


# -------------------------------------------------------------- the committed set


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="samples/clips not generated")
def test_committed_clip_set_matches_the_plan() -> None:
    total = 0
    for plan in PLAN:
        video, truth_path = SAMPLES / f"{plan.id}.mp4", SAMPLES / f"{plan.id}.json"
        truth = json.loads(truth_path.read_text())
        info = probe_video(video)
        total += video.stat().st_size + truth_path.stat().st_size
        assert truth["attack_type"] == plan.kind and truth["portrait"] == plan.portrait
        assert (info.width, info.height) == (truth["width"], truth["height"]) == plan.size
        assert info.codec == "h264" and 25 <= info.fps <= 30 and info.fps == truth["fps"]
        assert 3 <= info.duration <= 8 and info.frame_count == truth["frame_count"]
        assert 480 <= min(plan.size) <= 720
        assert all(r in REASONS for r in truth["expected"]["reasons"])
    assert total < 4_000_000
    kinds = {p.kind for p in PLAN}
    assert kinds == {"bona_fide", *ATTACK_TYPES}
    assert any(p.kind == "bona_fide" and p.portrait == "astronaut" and p.persona == "genuine" for p in PLAN)
    assert any(p.kind == "printed_photo" and p.portrait == "grace_hopper" and p.persona == "spoof" for p in PLAN)


def test_head_pose_truth_follows_the_face(bona_fide: GeneratedClip) -> None:
    """The nose's offset from the middle of the face contour tracks the stated yaw (sign and shape)."""
    yaw = np.asarray(bona_fide.truth["head_pose"]["yaw"])
    frames = range(0, len(bona_fide.frames), 5)
    offsets, stated = [], []
    for i in frames:
        marks = _landmarks(bona_fide.frames[i])
        assert marks is not None
        half = np.linalg.norm(marks[16] - marks[0]) / 2
        offsets.append((marks[30, 0] - (marks[0, 0] + marks[16, 0]) / 2) / half)
        stated.append(yaw[i])
    assert np.corrcoef(offsets, stated)[0, 1] > 0.9


def test_voice_follows_the_mouth() -> None:
    from idverify.synth.clips.audio import voice_track
    from idverify.synth.clips.motion import make_tracks

    tracks = make_tracks(np.random.default_rng(3), fps=25, frames=125, face_px=200)
    wave = voice_track(np.random.default_rng(4), np.asarray(tracks.mouth), fps=25, sample_rate=16000)
    rms = np.sqrt(np.mean(wave.reshape(125, -1) ** 2, axis=1))
    assert np.corrcoef(rms, tracks.mouth)[0, 1] > 0.8
    mouth = np.asarray(tracks.mouth)
    silent = (mouth == 0) & (np.r_[0.0, mouth[:-1]] == 0) & (np.r_[mouth[1:], 0.0] == 0)
    assert silent.any() and rms[silent].max() < 0.01


def test_print_corners_are_where_the_paper_is() -> None:
    clip = make_attack_clip("printed_photo", 1, size=(480, 640), duration=1.0)
    for i in (0, 12, 24):
        quad = np.asarray(clip.truth["attack"]["plane_corners"][i])
        centre = quad.mean(axis=0)
        for corner in quad:  # just inside each corner: white paper border; just outside: the room
            x, y = np.round(corner + 0.03 * (centre - corner)).astype(int)
            assert clip.frames[i][y - 1:y + 2, x - 1:x + 2].mean() > 170, (i, corner)
        mask = np.zeros(clip.frames[i].shape[:2], np.uint8)
        cv2.fillConvexPoly(mask, np.round(quad).astype(np.int32), 1)
        assert mask.mean() > 0.3  # the print fills a good part of the frame
