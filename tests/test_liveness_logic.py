"""Liveness cue and fusion logic on a scripted face engine (no dlib): geometry in, decisions out.

The scripted engine projects a crude 3-D face (68 points with depth) at a
scripted pose per frame; frames carry their index in a marker block so the
engine knows which pose to return. A flat variant (all depths 0) is a
printed photo.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import pytest

from idverify.config import LIVENESS
from idverify.face.engine import CHIP_SIZE, Box
from idverify.liveness import check_liveness, issue_challenge
from idverify.liveness.blink import find_blinks
from idverify.liveness.decision import fuse
from idverify.liveness.injection import (
    cut_check,
    frame_changes,
    frozen_check,
    loop_check,
    metadata_check,
    thumbnails,
)
from idverify.liveness.motion import pair_structure
from idverify.liveness.parallax import confirm_structure, flow_windows, parallax_check, texture_residual
from idverify.liveness.signals import MODEL_POINTS, head_pose, project_model
from idverify.media import Clip, VideoInfo
from idverify.results import Check

SECRET = b"unit-test-secret-0123456789"
SIZE = (640, 480)  # width, height
FPS = 25.0


def face_model() -> np.ndarray:
    """(68, 3) generic face: x right, y down, z away from the camera (nose forward), ~1 unit = 1 mm."""
    pts = np.zeros((68, 3))
    t = np.linspace(np.pi, 0, 17)
    pts[0:17, 0] = 70 * np.cos(t)
    pts[0:17, 1] = np.r_[np.linspace(-25, 60, 8), [85], np.linspace(60, -25, 8)]
    pts[0:17, 2] = np.r_[np.linspace(60, 20, 8), [10], np.linspace(20, 60, 8)]
    pts[17:22] = np.c_[np.linspace(-60, -12, 5), [-48, -55, -57, -55, -50], np.full(5, 5.0)]
    pts[22:27] = np.c_[np.linspace(12, 60, 5), [-50, -55, -57, -55, -48], np.full(5, 5.0)]
    pts[27:31] = np.c_[np.zeros(4), np.linspace(-38, 0, 4), np.linspace(0, -28, 4)]
    pts[31:36] = np.c_[np.linspace(-16, 16, 5), np.full(5, 10.0), [-5, -10, -12, -10, -5]]
    for start, cx in ((36, -33.0), (42, 33.0)):
        pts[start:start + 6] = np.c_[cx + np.array([-14, -5, 5, 14, 5, -5]), -30 + np.array([0, -5, -5, 0, 5, 5]),
                                     np.full(6, 8.0)]
    angles = np.linspace(np.pi, -np.pi, 13)[:12]
    pts[48:60] = np.c_[26 * np.cos(angles), 40 + 10 * np.sin(angles), np.full(12, 2.0)]
    inner = np.linspace(np.pi, -np.pi, 9)[:8]
    pts[60:68] = np.c_[18 * np.cos(inner), 40 + 2 * np.sin(inner), np.full(8, 3.0)]
    return pts


MODEL = face_model()


class ScriptedEngine:
    """FaceEngine whose face follows a script: pose, eye closure, mouth, identity, extra faces."""

    version = "scripted-engine 1"

    def __init__(self, script: Sequence[dict], *, flat: bool = False) -> None:
        self.script = list(script)
        self.flat = flat
        self.encoded = 0

    def _index(self, image: np.ndarray) -> int:
        grey = image if image.ndim == 2 else image[..., 0]
        return int(grey[2, 2])

    def _scale(self, image: np.ndarray) -> float:
        return image.shape[1] / SIZE[0]

    def points(self, index: int) -> np.ndarray:
        step = self.script[index]
        model = MODEL.copy()
        if self.flat:
            model[:, 2] = 0.0
        closure = step.get("closure", 0.0)
        for start in (36, 42):
            centre = model[start:start + 6, 1].mean()
            model[start:start + 6, 1] = centre + (model[start:start + 6, 1] - centre) * (1.0 - closure)
        model[[61, 62, 63], 1] -= 10 * step.get("mouth", 0.0)
        model[[65, 66, 67], 1] += 10 * step.get("mouth", 0.0)
        y, p = np.radians([step.get("yaw", 0.0), step.get("pitch", 0.0)])
        ry = np.array([[np.cos(y), 0, -np.sin(y)], [0, 1, 0], [np.sin(y), 0, np.cos(y)]])
        rx = np.array([[1, 0, 0], [0, np.cos(p), np.sin(p)], [0, -np.sin(p), np.cos(p)]])
        cam = model @ (rx @ ry).T + (0.0, 0.0, 600.0)
        focal = 640.0
        xy = cam[:, :2] * focal / cam[:, 2:3]
        centre = np.array([SIZE[0] / 2 + step.get("dx", 0.0), SIZE[1] / 2])
        return xy + centre

    def detect(self, image: np.ndarray, upsample: int = 0) -> list[Box]:
        index = self._index(image)
        if not self.script[index].get("face", True):
            return []
        scale = self._scale(image)
        pts = self.points(index) * scale
        x0, y0 = pts.min(axis=0)
        x1, y1 = pts.max(axis=0)
        boxes = [Box(int(x0), int(y0), int(x1), int(y1), 1.0)]
        if self.script[index].get("faces", 1) > 1:
            boxes.append(Box(int(5 * scale), int(5 * scale), int(5 * scale + (x1 - x0)), int(5 * scale + y1 - y0),
                             0.9))
        return boxes

    def landmarks(self, image: np.ndarray, box: Box) -> np.ndarray:
        return self.points(self._index(image)) * self._scale(image)

    def align(self, image: np.ndarray, box: Box) -> np.ndarray:
        chip = np.zeros((CHIP_SIZE, CHIP_SIZE, 3), np.uint8)
        chip[0, 0, 0] = self.script[self._index(image)].get("identity", 1)
        return chip

    def encode(self, chips: Sequence[np.ndarray], jitters: int = 0) -> np.ndarray:
        self.encoded += len(chips)
        out = np.zeros((len(chips), 128))
        for row, chip in enumerate(chips):
            out[row, int(chip[0, 0, 0])] = 0.5
        return out


def frames_for(count: int, seed: int = 0) -> list[np.ndarray]:
    """Smooth, changing frames (no edges, no periodic texture) with the index marker."""
    rng = np.random.default_rng(seed)
    base = cv2.GaussianBlur(rng.uniform(60, 200, (SIZE[1] // 8, SIZE[0] // 8, 3)).astype(np.float32), (0, 0), 2)
    frames = []
    for i in range(count):
        noisy = base + rng.normal(0, 4.0, base.shape).astype(np.float32)
        frame = cv2.resize(np.clip(noisy, 0, 255).astype(np.uint8), SIZE, interpolation=cv2.INTER_CUBIC)
        frame[:16, :16] = i
        frames.append(frame)
    return frames


def make_clip(frames: list[np.ndarray]) -> Clip:
    info = VideoInfo(width=SIZE[0], height=SIZE[1], fps=FPS, frame_count=len(frames), duration=len(frames) / FPS,
                     rotation=0, codec="fake", container="mp4", file_bytes=0)
    return Clip(frames=tuple(frames), timestamps=tuple(i / FPS for i in range(len(frames))),
                indexes=tuple(range(len(frames))), info=info, scale=1.0, decoded_frames=len(frames), truncated=False)


def live_script(count: int = 64, blinks: Sequence[int] = (20, 45), yaw: float = 14.0) -> list[dict]:
    script = []
    for i in range(count):
        step = {"yaw": yaw * np.sin(2 * np.pi * i / count), "pitch": 4 * np.sin(2 * np.pi * i / 37)}
        for b in blinks:
            if abs(i - b) <= 2:
                step["closure"] = [0.5, 0.9, 1.0, 0.9, 0.5][i - b + 2]
        script.append(step)
    return script


def run(script: list[dict], *, flat: bool = False, **kwargs: object):  # type: ignore[no-untyped-def]
    engine = ScriptedEngine(script, flat=flat)
    return check_liveness(clip=make_clip(frames_for(len(script))), engine=engine, **kwargs)  # type: ignore[arg-type]


# ------------------------------------------------------------------ decisions


def test_live_face_passes_with_evidence_frames() -> None:
    result = run(live_script())
    assert result.live, result.to_dict()["reasons"]
    assert result.score >= result.threshold
    blink = result.cues["blink"]
    assert blink.passed and blink.score == 2
    assert all(abs(f - b) <= 2 for f, b in zip(blink.evidence["frames"], (20, 45), strict=True))
    assert result.cues["structure"].passed
    assert result.to_dict()["cues"]["blink"]["evidence"]["count"] == 2


def test_still_photo_has_no_liveness_evidence() -> None:
    result = run([{} for _ in range(64)])
    assert not result.live
    assert "no_blink" in result.reasons and "no_head_motion" in result.reasons


def test_flat_picture_moved_around_is_planar() -> None:
    result = run(live_script(blinks=(), yaw=25.0), flat=True)
    assert not result.live
    assert "planar_motion" in result.reasons
    structure = result.cues["structure"]
    assert structure.score is not None and structure.score < structure.threshold


def test_same_motion_with_depth_is_not_planar() -> None:
    result = run(live_script(blinks=(), yaw=25.0))
    assert result.live and result.cues["structure"].passed


def test_identity_change_is_caught() -> None:
    script = live_script()
    for step in script[32:]:
        step["identity"] = 2
    result = run(script)
    assert not result.live and "identity_changed" in result.reasons


def test_second_face_is_caught() -> None:
    script = live_script()
    for step in script[10:55]:
        step["faces"] = 2
    result = run(script)
    assert not result.live and result.reasons == ["multiple_faces"]


def test_face_lost_for_most_of_the_clip() -> None:
    script = live_script()
    for step in script[20:]:
        step["face"] = False
    result = run(script)
    assert not result.live and "face_lost" in result.reasons
    assert result.cues["face_present"].evidence["lost_segments"]


def test_face_lost_and_found_again() -> None:
    script = live_script()
    for step in script[28:36]:
        step["face"] = False
    result = run(script)
    assert result.live, result.reasons
    segments = result.cues["face_present"].evidence["lost_segments"]
    # between detections the tracker follows the last fit: the loss is seen at the next detection at the latest
    assert len(segments) == 1 and 28 <= segments[0][0] <= 28 + LIVENESS.redetect_every and 35 <= segments[0][1] <= 38


def test_no_face_at_all() -> None:
    result = run([{"face": False} for _ in range(40)])
    assert not result.live and "no_face_clip" in result.reasons


# ------------------------------------------------------------------ challenge


def test_challenge_in_order_passes_and_out_of_order_fails() -> None:
    script = live_script(blinks=(50,), yaw=0.0)
    for i, step in enumerate(script):
        step["yaw"] = 25.0 if 20 <= i < 35 else 0.0  # turns to the image right = the person's own left
    ok = issue_challenge(SECRET, now=1000.0, actions=("turn_left", "blink"))
    result = run(script, challenge=ok.token, secret=SECRET, now=1010.0)
    assert result.live and result.mode == "active", result.reasons
    performed = result.cues["challenge"].evidence["performed"]
    assert [p["action"] for p in performed] == ["turn_left", "blink"]
    reverse = issue_challenge(SECRET, now=1000.0, actions=("blink", "turn_left"))
    failed = run(script, challenge=reverse.token, secret=SECRET, now=1010.0)
    assert not failed.live and "challenge_failed" in failed.reasons
    wrong_side = issue_challenge(SECRET, now=1000.0, actions=("turn_right",))
    assert "challenge_failed" in run(script, challenge=wrong_side, secret=SECRET, now=1010.0).reasons


def test_challenge_token_forged_expired_or_replayed_is_rejected() -> None:
    token = issue_challenge(SECRET, now=1000.0, actions=("blink",)).token
    script = live_script()
    assert "challenge_invalid" in run(script, challenge=token, secret=b"another-secret-0123456", now=1001.0).reasons
    head, signature = token.split(".")
    flipped = head + "." + ("B" if signature[0] == "A" else "A") + signature[1:]  # always a change
    assert "challenge_invalid" in run(script, challenge=flipped, secret=SECRET, now=1001.0).reasons
    assert "challenge_invalid" in run(script, challenge=token, secret=SECRET, now=99999.0).reasons
    used: set[str] = set()
    assert run(script, challenge=token, secret=SECRET, now=1001.0, used_nonces=used).live
    assert "challenge_invalid" in run(script, challenge=token, secret=SECRET, now=1002.0, used_nonces=used).reasons


def test_challenge_without_secret_is_misuse() -> None:
    from idverify.errors import UsageError

    with pytest.raises(UsageError):
        run(live_script(), challenge="x.y")
    with pytest.raises(UsageError):
        issue_challenge(b"short", now=0.0)


# ------------------------------------------------------------------ pieces


def test_head_pose_round_trip_and_sign() -> None:
    for yaw, pitch in ((0.0, 0.0), (20.0, 0.0), (-15.0, 10.0)):
        marks = np.zeros((68, 2))
        marks[list(MODEL_POINTS)] = project_model(yaw, pitch, SIZE)
        got = head_pose(marks, SIZE)
        assert got[0] == pytest.approx(yaw, abs=0.5) and got[1] == pytest.approx(pitch, abs=0.5)
    engine = ScriptedEngine([{"yaw": 20.0}])
    pts = engine.points(0)
    assert pts[30, 0] > (pts[0, 0] + pts[16, 0]) / 2  # positive yaw: nose toward the image right
    assert head_pose(pts, SIZE)[0] > 5


def test_pair_structure_separates_flat_from_deep() -> None:
    deep = ScriptedEngine([{"yaw": 0.0}, {"yaw": 20.0}])
    flat = ScriptedEngine([{"yaw": 0.0}, {"yaw": 20.0}], flat=True)
    _, parallax_deep = pair_structure(deep.points(0), deep.points(1))
    _, parallax_flat = pair_structure(flat.points(0), flat.points(1))
    assert parallax_flat < 1e-3 < 0.05 < parallax_deep


def test_blink_needs_a_dip_that_comes_back() -> None:
    t = np.arange(100) / 25.0
    ear = np.full(100, 0.3)
    ear[50:] = 0.12  # eyes close and stay closed: not a blink
    assert find_blinks(ear, t) == []
    ear = np.full(100, 0.3) + np.random.default_rng(0).normal(0, 0.005, 100)
    assert find_blinks(ear, t) == []  # landmark noise is not a blink


def test_frozen_and_looped_frames() -> None:
    frames = frames_for(60)
    stamps = [i / FPS for i in range(60)]
    assert frozen_check(frame_changes(frames), stamps).passed
    frozen = frames[:20] + [frames[20]] * 40
    check = frozen_check(frame_changes(frozen), stamps)
    assert not check.passed and check.reason == "frozen_frames" and check.evidence["frames"][0] == 20
    # a codec keyframe re-encodes the frozen picture a little differently: the run goes on through it
    changes = np.r_[np.full(20, 3.0), np.full(10, 0.01), [0.7], np.full(14, 0.01), np.full(14, 3.0)]
    check = frozen_check(changes.astype(np.float32), stamps)
    assert not check.passed and check.evidence["frames"] == [20, 45]
    changes[22:45:3] = 0.7  # a small change every third frame: a still person in a converted clip, not a freeze
    assert frozen_check(changes.astype(np.float32), stamps).passed
    moving = [np.roll(f, 7 * i, axis=1) for i, f in enumerate(frames_for(30, seed=3))]
    looped = moving + moving[:30]
    check = loop_check(thumbnails(looped), stamps)
    assert not check.passed and check.reason == "looped_frames" and check.evidence["offset_frames"] == 30
    assert loop_check(thumbnails(moving * 1), stamps[:30]).passed


def test_cuts_between_shots_are_a_hint_and_motion_is_not_a_cut() -> None:
    moving = [np.roll(f, 7 * i, axis=1) for i, f in enumerate(frames_for(30, seed=3))]
    assert cut_check(thumbnails(moving)).passed  # fast motion changes every frame: no spike
    other_shot = [np.clip(f.astype(np.int16) + 90, 0, 255).astype(np.uint8) for f in frames_for(30, seed=5)]
    check = cut_check(thumbnails(frames_for(30) + other_shot), indexes=list(range(100, 160)))
    assert not check.passed and check.reason == "scene_cut" and check.evidence["frames"] == [130]
    live, _, reasons, hints = fuse({"blink": Check("blink", True, score=2.0, threshold=1.0), "cuts": check})
    assert live and reasons == [] and hints == ["scene_cut"]


def test_metadata_hint_is_advisory() -> None:
    tags = {"format": {"tags": {"encoder": "OBS Studio 30.1"}}, "streams": []}
    check = metadata_check(tags)
    assert not check.passed and check.reason == "virtual_camera_hint"
    assert metadata_check({"format": {"tags": {"encoder": "Lavf60.16.100"}}, "streams": []}).passed
    cues = {"blink": Check("blink", True, score=2.0, threshold=1.0), "metadata": check}
    live, _, reasons, hints = fuse(cues)
    assert live and reasons == [] and hints == ["virtual_camera_hint"]


def test_fusion_reasons_and_score_agree() -> None:
    evidence = {"blink": Check("blink", False, "no_blink", score=0.0, threshold=1.0),
                "structure": Check("structure", False, "no_head_motion", score=0.01, threshold=0.045)}
    live, score, reasons, _ = fuse(evidence)
    assert not live and score < 0.5 and reasons == ["no_blink", "no_head_motion"]
    attacked = {**evidence, "blink": Check("blink", True, score=3.0, threshold=1.0),
                "surface": Check("surface", False, "screen_replay", score=0.8, threshold=0.5)}
    live, score, reasons, _ = fuse(attacked)
    assert not live and reasons == ["screen_replay"] and score < 0.5


def turning_texture(deep: bool, count: int = 40) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """A textured picture turned 25 degrees about the vertical axis (a homography), with the flat face's
    landmarks turned with it; ``deep`` moves a patch around the nose further, as parallax would."""
    rng = np.random.default_rng(7)
    texture = cv2.GaussianBlur(rng.uniform(0, 255, (SIZE[1], SIZE[0])).astype(np.float32), (0, 0), 3.0)
    texture = cv2.normalize(texture, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    base = ScriptedEngine([{}], flat=True).points(0)
    x0, y0 = base[27:36].min(axis=0).astype(int) - 6
    x1, y1 = base[27:36].max(axis=0).astype(int) + 6
    centre = np.array([SIZE[0] / 2, SIZE[1] / 2])
    corners = np.array([[0, 0], [SIZE[0], 0], [SIZE[0], SIZE[1]], [0, SIZE[1]]], np.float64)
    greys, marks = [], []
    for i in range(count):
        turn = np.radians(25.0 * i / (count - 1))
        # the picture 600 mm from a 640 px focal camera, turned about its own vertical axis
        x, y = ((corners - centre) * 600.0 / 640.0).T
        depth = 600.0 + x * np.sin(turn)
        seen = np.c_[x * np.cos(turn), y] * 640.0 / depth[:, None] + centre
        plane = cv2.getPerspectiveTransform(corners.astype(np.float32), seen.astype(np.float32))
        frame = cv2.warpPerspective(texture, plane, SIZE)
        if deep:
            shifted = cv2.warpPerspective(texture, np.array([[1, 0, 0.5 * i], [0, 1, 0], [0, 0, 1]]) @ plane, SIZE)
            frame[y0:y1, x0:x1] = shifted[y0:y1, x0:x1]
        greys.append(frame)
        marks.append(cv2.perspectiveTransform(base.reshape(-1, 1, 2), plane).reshape(-1, 2))
    return greys, np.array(marks), np.linspace(0.0, 25.0, count)


def test_texture_turning_like_a_plane_is_planar_and_with_parallax_is_a_head() -> None:
    stamps = [i / FPS for i in range(40)]
    flat = flow_windows(*turning_texture(deep=False), stamps)
    deep = flow_windows(*turning_texture(deep=True), stamps)
    assert len(flat) == len(deep) == 2 and all(w.turn > 6 and w.points >= 12 for w in flat + deep)
    assert max(w.residual for w in flat) < 0.005  # a homography explains a turned picture to sub-pixel level
    flat_check, deep_check = parallax_check(flat), parallax_check(deep)
    assert flat_check.reason == "planar_motion" and flat_check.score is not None and flat_check.score < 0.02
    assert deep_check.passed and deep_check.score is not None and deep_check.score > 10 * flat_check.score
    assert fuse({"parallax": flat_check})[2] == ["planar_motion"]
    assert fuse({"parallax": deep_check})[0]


def test_still_face_gives_no_parallax_verdict() -> None:
    greys, marks, _ = turning_texture(deep=True)
    check = parallax_check(flow_windows(greys, marks, np.zeros(40), [i / FPS for i in range(40)]))
    assert not check.passed and check.reason == "no_head_motion" and check.evidence["turned_windows"] == 0


def test_landmark_parallax_is_confirmed_only_when_the_texture_shows_it() -> None:
    """The landmarks' nose parallax (``structure``) stands only if the skin texture between the same frames
    does not follow one homography; when the face is lost on the way the landmark verdict stands."""
    stamps = [i / FPS for i in range(40)]
    seen = Check("structure", True, score=0.07, threshold=LIVENESS.min_parallax, evidence={"frames": [5, 30]})
    flat_greys, flat_marks, _ = turning_texture(deep=False)
    deep_greys, deep_marks, _ = turning_texture(deep=True)
    flat = texture_residual(flat_greys, flat_marks, stamps, 5, 30)
    deep = texture_residual(deep_greys, deep_marks, stamps, 5, 30)
    assert flat is not None and deep is not None and flat < LIVENESS.structure_min_texture < deep
    unconfirmed = confirm_structure(seen, flat)
    assert not unconfirmed.passed and unconfirmed.reason == "no_head_motion"
    assert unconfirmed.evidence["texture_residual_iod"] == round(flat, 4)
    assert fuse({"structure": unconfirmed})[2] == ["no_head_motion"]  # no evidence, but no attack verdict either
    assert confirm_structure(seen, deep).passed
    lost = flat_marks.copy()
    lost[10:20] = np.nan
    assert texture_residual(flat_greys, lost, stamps, 5, 30) is None and confirm_structure(seen, None).passed
