"""Bona fide selfie clips and presentation / injection attacks, with their ground truth.

Every clip is a pure function of its arguments and ``seed``: the random
generators are derived from the seed and the clip kind with
:class:`numpy.random.SeedSequence`, so the same call gives identical frames.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import zlib
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from idverify.errors import UsageError
from idverify.synth.clips.audio import SAMPLE_RATE, voice_track
from idverify.synth.clips.camera import Camera, smooth_walk
from idverify.synth.clips.mesh import triangulate, warp_mesh
from idverify.synth.clips.motion import Blink, Tracks, make_tracks, still_tracks
from idverify.synth.clips.rig import FaceRig, portrait_landmarks
from idverify.synth.clips.scene import (
    PlanePose,
    ScreenStyle,
    add_glare,
    composite_plane,
    print_texture,
    render_screen,
    room_background,
    screen_layout,
)
from idverify.synth.clips.writer import write_clip
from idverify.synth.portraits import PORTRAITS, load_portrait

BONA_FIDE = "bona_fide"

#: Attack type -> the liveness reason codes the clip truly exhibits (the first is the defining one).
ATTACK_REASONS: dict[str, tuple[str, ...]] = {
    "static_photo": ("no_blink", "no_head_motion"),
    "printed_photo": ("planar_motion", "print_attack", "no_blink"),
    "screen_photo": ("screen_replay", "planar_motion", "print_attack", "no_blink"),
    "screen_replay": ("screen_replay", "print_attack"),
    "face_swap": ("identity_changed",),
    "frozen_frames": ("frozen_frames",),
    "looped_frames": ("looped_frames",),
    "two_faces": ("multiple_faces",),
}
ATTACK_TYPES: tuple[str, ...] = tuple(ATTACK_REASONS)

#: Portrait used by each attack unless told otherwise (the spoof persona of the documents set is grace_hopper).
DEFAULT_ATTACK_PORTRAIT = {
    "static_photo": "grace_hopper", "printed_photo": "grace_hopper", "screen_photo": "astronaut",
    "screen_replay": "astronaut", "face_swap": "astronaut", "frozen_frames": "grace_hopper",
    "looped_frames": "astronaut", "two_faces": "astronaut",
}

SCHEMA = 1
# Face swap: forehead points above the brows (in brow-to-chin heights), mask growth and edge feather
# (in face half-widths). The two portraits are only ~0.69 apart in dlib's embedding space; these keep a
# swap at 0.62-0.71 across seeds (benchmarks/synth_clips.py).
SWAP_FOREHEAD, SWAP_GROW, SWAP_FEATHER = 0.18, 0.1, 0.05


@dataclasses.dataclass(frozen=True)
class GeneratedClip:
    """Frames (RGB uint8), frame rate, optional mono audio and the ground truth of one clip."""

    frames: tuple[np.ndarray, ...]
    fps: float
    truth: dict[str, Any]
    audio: np.ndarray | None = None
    sample_rate: int = SAMPLE_RATE

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)."""
        return int(self.frames[0].shape[1]), int(self.frames[0].shape[0])

    @property
    def duration(self) -> float:
        return len(self.frames) / self.fps


# ------------------------------------------------------------------------ helpers


def _rngs(seed: int, kind: str, count: int) -> list[np.random.Generator]:
    sequence = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, zlib.crc32(kind.encode())])
    return [np.random.default_rng(s) for s in sequence.spawn(count)]


def _check(portrait: str, size: tuple[int, int], fps: float, duration: float) -> int:
    if portrait not in PORTRAITS:
        raise UsageError("usage_error", f"unknown portrait {portrait!r}; choose from {sorted(PORTRAITS)}")
    width, height = size
    if width % 2 or height % 2 or min(width, height) < 160:
        raise UsageError("usage_error", f"size must be even and at least 160 px, got {width}x{height}")
    if not 5 <= fps <= 60 or not 0.5 <= duration <= 30:
        raise UsageError("usage_error", f"fps {fps} or duration {duration} out of range")
    return round(duration * fps)


def _other(portrait: str) -> str:
    return next(p for p in sorted(PORTRAITS) if p != portrait)


def _rig(portrait: str, size: tuple[int, int], rng: np.random.Generator) -> FaceRig:
    return FaceRig(portrait, size, zoom=float(rng.uniform(1.0, 1.12)),
                   offset=(float(rng.uniform(-0.05, 0.05)), float(rng.uniform(-0.04, 0.03))))


def _tracks_for(rig: FaceRig, rng: np.random.Generator, fps: float, frames: int, talk: bool = True) -> Tracks:
    return make_tracks(rng, fps=fps, frames=frames, face_px=2 * rig.half_width, talk=talk)


def _render(rig: FaceRig, tracks: Tracks, base: np.ndarray | None = None, switch: int | None = None,
            base_after: np.ndarray | None = None) -> list[np.ndarray]:
    frames = []
    for i in range(len(tracks)):
        image = base_after if switch is not None and i >= switch else base
        frames.append(rig.render(tracks.pose(i), tracks.closure[i], tracks.mouth[i], base=image))
    return frames


def _blink_dicts(blinks: tuple[Blink, ...] | list[Blink], fps: float) -> list[dict[str, Any]]:
    return [{"start": round(b.start, 4), "end": round(b.end, 4), "start_frame": math.floor(b.start * fps) + 1,
             "end_frame": math.ceil(b.end * fps) - 1} for b in blinks]


def _track_dict(tracks: Tracks) -> dict[str, Any]:
    return {"head_pose": {"yaw": list(tracks.yaw), "pitch": list(tracks.pitch), "roll": list(tracks.roll)},
            "mouth_open": list(tracks.mouth), "eye_closure": list(tracks.closure),
            "blinks": _blink_dicts(tracks.blinks, tracks.fps)}


def _truth(*, kind: str, portrait: str, seed: int, fps: float, size: tuple[int, int], frames: int,
           audio: bool, tracks: Tracks, portraits: list[str] | None = None,
           attack: dict[str, Any] | None = None) -> dict[str, Any]:
    live = kind == BONA_FIDE
    reasons = list(ATTACK_REASONS.get(kind, ()))
    truth: dict[str, Any] = {
        "schema": SCHEMA, "kind": "clip", "generator": "idverify.synth.clips", "seed": int(seed),
        "attack_type": kind, "portrait": portrait, "portraits": portraits or [portrait],
        "fps": fps, "frame_count": frames, "duration": round(frames / fps, 4),
        "width": size[0], "height": size[1], "codec": "h264", "pix_fmt": "yuv420p", "audio": audio,
        "expected": {"live": live, "reasons": reasons, "primary_reason": reasons[0] if reasons else None},
        "pose_source": "head",
    }
    truth |= _track_dict(tracks)
    truth["speech"] = [{"start": s, "end": e} for s, e in tracks.speech]
    truth["attack"] = attack or {}
    return truth


def _remap(tracks: Tracks, index: list[int]) -> Tracks:
    """The tracks as displayed when output frame i shows source frame ``index[i]``."""
    fps = tracks.fps

    def pick(values: tuple[float, ...]) -> tuple[float, ...]:
        return tuple(values[j] for j in index)

    shown: list[Blink] = []
    for blink in tracks.blinks:
        span = [j for j in range(len(tracks)) if blink.start < j / fps < blink.end]
        for offset in range(-len(index), len(index)):
            if all(0 <= j + offset < len(index) and index[j + offset] == j for j in span) and span:
                shown.append(Blink(round(blink.start + offset / fps, 4), round(blink.end + offset / fps, 4)))
    return dataclasses.replace(tracks, yaw=pick(tracks.yaw), pitch=pick(tracks.pitch), roll=pick(tracks.roll),
                               dx=pick(tracks.dx), dy=pick(tracks.dy), closure=pick(tracks.closure),
                               mouth=pick(tracks.mouth), blinks=tuple(sorted(shown, key=lambda b: b.start)),
                               speech=())


def _cover(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` scaled to cover ``(width, height)`` and centre-cropped (face kept a little high)."""
    width, height = size
    ih, iw = image.shape[:2]
    scale = max(width / iw, height / ih)
    resized = cv2.resize(image, (max(width, round(iw * scale)), max(height, round(ih * scale))),
                         interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    y0 = (resized.shape[0] - height) // 3
    x0 = (resized.shape[1] - width) // 2
    return np.ascontiguousarray(resized[y0:y0 + height, x0:x0 + width])


def _plane_track(rng: np.random.Generator, frames: int, fps: float, size: tuple[int, int], *, height: float,
                 tilt: float, shake: float) -> list[PlanePose]:
    width, frame_h = size
    t = np.arange(frames) / fps

    def osc(amplitude: float, hz: float) -> np.ndarray:
        phase = rng.uniform(0, 2 * np.pi)
        f = hz * rng.uniform(0.8, 1.25)
        return amplitude * np.sin(2 * np.pi * f * t + phase)

    yaw = osc(tilt * rng.uniform(0.6, 1.0), 0.25)
    pitch = osc(0.7 * tilt * rng.uniform(0.6, 1.0), 0.2)
    roll = osc(0.35 * tilt, 0.15) + rng.uniform(-3, 3)
    cx = width / 2 + osc(0.03 * width, 0.2) + smooth_walk(rng, frames, shake, 2)
    cy = frame_h * 0.5 + osc(0.02 * frame_h, 0.25) + smooth_walk(rng, frames, shake, 2)
    h = height * frame_h * (1 + osc(0.04, 0.15))
    return [PlanePose(float(yaw[i]), float(pitch[i]), float(roll[i]), float(cx[i]), float(cy[i]), float(h[i]))
            for i in range(frames)]


def _plane_tracks(poses: list[PlanePose], fps: float) -> Tracks:
    zero = tuple(0.0 for _ in poses)
    return Tracks(fps=fps, yaw=tuple(round(p.yaw, 3) for p in poses), pitch=tuple(round(p.pitch, 3) for p in poses),
                  roll=tuple(round(p.roll, 3) for p in poses), dx=zero, dy=zero, closure=zero, mouth=zero,
                  blinks=(), speech=())


def _plane_gain(pose: PlanePose, light: np.ndarray) -> float:
    """Lambert-like shading of a flat prop: the whole plane brightens or darkens together."""
    return float(0.78 + 0.3 * max(0.0, float(-pose.normal() @ light)))


# ------------------------------------------------------------------------ bona fide


def make_bona_fide_clip(portrait: str = "astronaut", seed: int = 0, *, size: tuple[int, int] = (480, 640),
                        fps: float = 25.0, duration: float = 4.0, audio: bool = True) -> GeneratedClip:
    """A live-looking selfie: head motion, blinks, speech-like mouth movement, light drift, noise, shake."""
    n = _check(portrait, size, fps, duration)
    place, motion, cam_rng, sound = _rngs(seed, f"bona_fide/{portrait}", 4)
    rig = _rig(portrait, size, place)
    tracks = _tracks_for(rig, motion, fps, n)
    camera = Camera(cam_rng, size, n)
    frames = tuple(camera.apply(f, i) for i, f in enumerate(_render(rig, tracks)))
    wave = voice_track(sound, np.asarray(tracks.mouth), fps=fps) if audio else None
    truth = _truth(kind=BONA_FIDE, portrait=portrait, seed=seed, fps=fps, size=size, frames=n, audio=audio,
                   tracks=tracks)
    return GeneratedClip(frames=frames, fps=fps, truth=truth, audio=wave)


# ------------------------------------------------------------------------ attacks


def make_attack_clip(kind: str, seed: int = 0, *, portrait: str | None = None, size: tuple[int, int] = (480, 640),
                     fps: float = 25.0, duration: float = 4.0, prop_height: float | None = None) -> GeneratedClip:
    """One presentation or injection attack of type ``kind`` (a key of :data:`ATTACK_REASONS`).

    ``prop_height`` (``printed_photo`` only): the print's height as a share of
    the frame's (default 0.8); from about 1.3 its white border is out of view.
    """
    if kind not in ATTACK_REASONS:
        raise UsageError("usage_error", f"unknown attack {kind!r}; choose from {list(ATTACK_TYPES)}")
    who = portrait or DEFAULT_ATTACK_PORTRAIT[kind]
    n = _check(who, size, fps, duration)
    if prop_height is not None:
        if kind != "printed_photo" or not 0.2 <= prop_height <= 3.0:
            raise UsageError("usage_error", "prop_height applies to printed_photo, within [0.2, 3]")
        return _printed_photo(who, seed, size, fps, n, height=prop_height)
    builder = _BUILDERS[kind]
    return builder(who, seed, size, fps, n)


def _static_photo(portrait: str, seed: int, size: tuple[int, int], fps: float, n: int) -> GeneratedClip:
    place, cam_rng = _rngs(seed, f"static_photo/{portrait}", 2)
    rig = _rig(portrait, size, place)
    camera = Camera(cam_rng, size, n, light=0.0, shake=0.0)
    frames = tuple(camera.apply(rig.base, i) for i in range(n))
    truth = _truth(kind="static_photo", portrait=portrait, seed=seed, fps=fps, size=size, frames=n, audio=False,
                   tracks=still_tracks(fps, n), attack={"description": "one still image repeated; only sensor noise"})
    return GeneratedClip(frames=frames, fps=fps, truth=truth)


def _printed_photo(portrait: str, seed: int, size: tuple[int, int], fps: float, n: int, *,
                   height: float = 0.8) -> GeneratedClip:
    scene_rng, print_rng, pose_rng, cam_rng = _rngs(seed, f"printed_photo/{portrait}", 4)
    background = room_background(scene_rng, size)
    texture = print_texture(load_portrait(portrait), print_rng, height=int(size[1] * 1.1))
    tex_size = (texture.shape[1], texture.shape[0])
    poses = _plane_track(pose_rng, n, fps, size, height=height, tilt=18.0, shake=0.004 * size[1])
    light = np.array([0.3, -0.4, 0.87])
    frames, corners = [], []
    for pose in poses:
        frame, _ = composite_plane(background, texture, pose.homography(tex_size, size), gain=_plane_gain(pose, light),
                                   blur=0.5)
        frames.append(frame)
        corners.append(np.round(pose.corners(tex_size, size), 1).tolist())
    camera = Camera(cam_rng, size, n, light=0.3, shake=0.0)
    out = tuple(camera.apply(f, i) for i, f in enumerate(frames))
    truth = _truth(kind="printed_photo", portrait=portrait, seed=seed, fps=fps, size=size, frames=n, audio=False,
                   tracks=_plane_tracks(poses, fps),
                   attack={"description": "photo printed on paper with a white border, moved by hand as a rigid plane",
                           "plane_corners": corners, "prop_height": height})
    truth["pose_source"] = "plane"
    return GeneratedClip(frames=out, fps=fps, truth=truth)


def _screen_clip(kind: str, portrait: str, seed: int, size: tuple[int, int], fps: float, n: int) -> GeneratedClip:
    scene_rng, style_rng, pose_rng, cam_rng, inner_rng, glare_rng = _rngs(seed, f"{kind}/{portrait}", 6)
    background = room_background(scene_rng, size)
    style = ScreenStyle.random(style_rng)
    short = min(size)
    screen_px = (short * 3 // 4, round(short * 3 // 4 * 4 / 3))  # finer than the camera resolves: moiré
    screen_px = (screen_px[0] - screen_px[0] % 2, screen_px[1] - screen_px[1] % 2)
    tex_size, _ = screen_layout(style, screen_px)
    replay = kind == "screen_replay"
    plane_height = 0.86
    poses = _plane_track(pose_rng, n, fps, size, height=plane_height, tilt=9.0 if not replay else 5.0,
                         shake=0.003 * size[1])
    optics = 0.45 * tex_size[1] / (plane_height * size[1])  # lens blur: 0.45 frame px, in texture px
    if replay:
        inner_seed = int(inner_rng.integers(0, 2**31))
        inner = make_bona_fide_clip(portrait, inner_seed, size=screen_px, fps=fps, duration=n / fps, audio=False)
        contents: list[np.ndarray] = list(inner.frames)
        tracks = _tracks_from_truth(inner.truth)
    else:
        still = _cover(load_portrait(portrait), screen_px)
        contents = [still] * n
        tracks = _plane_tracks(poses, fps)
    band_speed = float(glare_rng.uniform(0.6, 1.6)) if replay else 0.0
    glare_at = glare_rng.uniform(-0.25, 0.25, 2)
    glare_strength = float(glare_rng.uniform(0.25, 0.45))
    frames, corners = [], []
    for i, pose in enumerate(poses):
        frame, mask = render_screen(background, contents[i], style, screen_px, pose, banding=0.12 if replay else 0.0,
                                    band_phase=band_speed * i / fps * 10, optics=optics)
        quad = pose.corners(tex_size, size)
        centre = quad.mean(axis=0) + (glare_at + 0.02 * np.array([pose.yaw, pose.pitch])) * (quad[2] - quad[0])
        radius = 0.25 * float(np.linalg.norm(quad[1] - quad[0]))
        frames.append(add_glare(frame, mask, (float(centre[0]), float(centre[1])), radius, glare_strength))
        corners.append(np.round(quad, 1).tolist())
    camera = Camera(cam_rng, size, n, light=0.3, shake=0.0)
    out = tuple(camera.apply(f, i) for i, f in enumerate(frames))
    attack: dict[str, Any] = {"screen": {"pixels": list(screen_px), "gamma": style.gamma, "black_level": style.black,
                                         "refresh_banding": replay}, "plane_corners": corners}
    if replay:
        attack["description"] = "a bona fide clip replayed on a phone screen and filmed (recapture)"
        attack["replayed_seed"] = inner_seed
    else:
        attack["description"] = "a still photo shown on a phone screen held in front of the camera"
    truth = _truth(kind=kind, portrait=portrait, seed=seed, fps=fps, size=size, frames=n, audio=False,
                   tracks=tracks, attack=attack)
    truth["pose_source"] = "replayed_head" if replay else "plane"
    return GeneratedClip(frames=out, fps=fps, truth=truth)


def _tracks_from_truth(truth: dict[str, Any]) -> Tracks:
    pose = truth["head_pose"]
    zero = tuple(0.0 for _ in pose["yaw"])
    return Tracks(fps=float(truth["fps"]), yaw=tuple(pose["yaw"]), pitch=tuple(pose["pitch"]),
                  roll=tuple(pose["roll"]), dx=zero, dy=zero, closure=tuple(truth["eye_closure"]),
                  mouth=tuple(truth["mouth_open"]), blinks=_blinks_from_truth(truth), speech=())


def _blinks_from_truth(truth: dict[str, Any]) -> tuple[Blink, ...]:
    return tuple(Blink(b["start"], b["end"]) for b in truth["blinks"])


def _screen_photo(portrait: str, seed: int, size: tuple[int, int], fps: float, n: int) -> GeneratedClip:
    return _screen_clip("screen_photo", portrait, seed, size, fps, n)


def _screen_replay(portrait: str, seed: int, size: tuple[int, int], fps: float, n: int) -> GeneratedClip:
    return _screen_clip("screen_replay", portrait, seed, size, fps, n)


def swapped_base(rig: FaceRig, other: str) -> np.ndarray:
    """``rig``'s base image with the face of portrait ``other`` pasted over its face.

    A crude landmark face swap, the kind a cheap injection tool makes: the
    other face, aligned on the eyes (similarity transform) and keeping its own
    shape, is warped piecewise-affinely into place, cut along its landmark
    hull (grown a little, forehead included) with a feathered edge, and keeps
    its own skin tone. Its eyes land where this face's eyes were, so the rig
    still blinks them.
    """
    src_img = load_portrait(other)
    src_marks = portrait_landmarks(other)
    dst_marks = rig.landmarks
    brow = list(range(17, 27))
    src_pts = np.vstack([src_marks, src_marks[brow] + SWAP_FOREHEAD * (src_marks[27] - src_marks[8])])
    eyes = list(range(36, 48))
    align, _ = cv2.estimateAffinePartial2D(src_marks[eyes].astype(np.float32), dst_marks[eyes].astype(np.float32))
    dst_pts = src_pts @ align[:, :2].T + align[:, 2]
    x0, y0, x1, y1 = rig.roi
    anchors = np.array([[x0, y0], [x1 - 1, y0], [x1 - 1, y1 - 1], [x0, y1 - 1]], np.float64)
    inverse = cv2.invertAffineTransform(align)
    anchors_src = anchors @ inverse[:, :2].T + inverse[:, 2]
    src_all, dst_all = np.vstack([src_pts, anchors_src]), np.vstack([dst_pts, anchors])
    triangles = triangulate(dst_all, rig.size)
    moved = warp_mesh(src_img, src_all, dst_all, triangles, rig.roi, out=np.zeros_like(rig.base)).astype(np.float32)
    mask = np.zeros(rig.base.shape[:2], np.float32)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.round(dst_pts).astype(np.int32)), 1.0)
    grow = round(rig.half_width * SWAP_GROW)
    if grow > 0:
        mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)))
    feather = max(2.0, rig.half_width * SWAP_FEATHER)
    mask = cv2.erode(mask, np.ones((3, 3), np.uint8), iterations=int(feather))
    soft = cv2.GaussianBlur(mask, (0, 0), feather)[..., None]
    return np.clip(rig.base.astype(np.float32) * (1 - soft) + moved * soft + 0.5, 0, 255).astype(np.uint8)


def _face_swap(portrait: str, seed: int, size: tuple[int, int], fps: float, n: int) -> GeneratedClip:
    place, motion, cam_rng, swap_rng = _rngs(seed, f"face_swap/{portrait}", 4)
    other = _other(portrait)
    rig = _rig(portrait, size, place)
    tracks = _tracks_for(rig, motion, fps, n)
    switch = round(n * float(swap_rng.uniform(0.4, 0.6)))
    swapped = swapped_base(rig, other)
    camera = Camera(cam_rng, size, n)
    frames = tuple(camera.apply(f, i) for i, f in enumerate(_render(rig, tracks, switch=switch, base_after=swapped)))
    truth = _truth(kind="face_swap", portrait=portrait, seed=seed, fps=fps, size=size, frames=n, audio=False,
                   tracks=tracks, portraits=[portrait, other],
                   attack={"description": f"the face of {portrait} is replaced by {other}'s (landmark face swap)",
                           "swap_frame": switch, "swap_time": round(switch / fps, 4), "after": other})
    return GeneratedClip(frames=frames, fps=fps, truth=truth)


def _edited(kind: str, portrait: str, seed: int, size: tuple[int, int], fps: float, n: int) -> GeneratedClip:
    place, motion, cam_rng, edit_rng = _rngs(seed, f"{kind}/{portrait}", 4)
    rig = _rig(portrait, size, place)
    tracks = _tracks_for(rig, motion, fps, n)
    camera = Camera(cam_rng, size, n)
    source = [camera.apply(f, i) for i, f in enumerate(_render(rig, tracks))]
    length = max(2, min(round(fps * float(edit_rng.uniform(1.0, 1.4))), n // 3))
    first = int(0.15 * n)
    candidates = [a for a in range(first, n - 2 * length + 1) if tracks.closure[a] == 0.0]
    start = int(edit_rng.choice(candidates)) if candidates else first
    attack: dict[str, Any]
    if kind == "frozen_frames":
        index = [start if start <= i < start + length else i for i in range(n)]
        attack = {"description": "the camera feed freezes: one frame repeated", "frozen": [
            {"start_frame": start, "end_frame": start + length - 1, "start": round(start / fps, 4),
             "end": round((start + length) / fps, 4)}]}
    else:
        index = [i - length if start + length <= i < start + 2 * length else i for i in range(n)]
        attack = {"description": "a segment of the clip is played twice (loop)", "looped": [
            {"source_start_frame": start, "source_end_frame": start + length - 1,
             "repeat_start_frame": start + length, "repeat_end_frame": start + 2 * length - 1,
             "start": round((start + length) / fps, 4), "end": round((start + 2 * length) / fps, 4)}]}
    attack["frame_index"] = index
    frames = tuple(source[j] for j in index)
    truth = _truth(kind=kind, portrait=portrait, seed=seed, fps=fps, size=size, frames=n, audio=False,
                   tracks=_remap(tracks, index), attack=attack)
    return GeneratedClip(frames=frames, fps=fps, truth=truth)


def _frozen(portrait: str, seed: int, size: tuple[int, int], fps: float, n: int) -> GeneratedClip:
    return _edited("frozen_frames", portrait, seed, size, fps, n)


def _looped(portrait: str, seed: int, size: tuple[int, int], fps: float, n: int) -> GeneratedClip:
    return _edited("looped_frames", portrait, seed, size, fps, n)


def _two_faces(portrait: str, seed: int, size: tuple[int, int], fps: float, n: int) -> GeneratedClip:
    place_a, place_b, motion_a, motion_b, cam_rng = _rngs(seed, f"two_faces/{portrait}", 5)
    other = _other(portrait)
    width, height = size
    overlap = 24
    half = (width // 2 + overlap, height)
    rig_a, rig_b = _rig(portrait, half, place_a), _rig(other, half, place_b)
    tracks_a, tracks_b = _tracks_for(rig_a, motion_a, fps, n), _tracks_for(rig_b, motion_b, fps, n)
    ramp = np.linspace(0, 1, 2 * overlap, dtype=np.float32)[None, :, None]
    mid = width // 2
    camera = Camera(cam_rng, size, n)
    frames = []
    for i in range(n):
        a = rig_a.render(tracks_a.pose(i), tracks_a.closure[i], tracks_a.mouth[i])
        b = rig_b.render(tracks_b.pose(i), tracks_b.closure[i], tracks_b.mouth[i])
        canvas = np.empty((height, width, 3), np.uint8)
        canvas[:, :mid - overlap] = a[:, :mid - overlap]
        seam = a[:, mid - overlap:mid + overlap].astype(np.float32) * (1 - ramp) + \
            b[:, :2 * overlap].astype(np.float32) * ramp
        canvas[:, mid - overlap:mid + overlap] = np.clip(seam + 0.5, 0, 255).astype(np.uint8)
        canvas[:, mid + overlap:] = b[:, 2 * overlap:2 * overlap + width - mid - overlap]
        frames.append(camera.apply(canvas, i))
    second = {"portrait": other, "side": "right"} | _track_dict(tracks_b)
    truth = _truth(kind="two_faces", portrait=portrait, seed=seed, fps=fps, size=size, frames=n, audio=False,
                   tracks=tracks_a, portraits=[portrait, other],
                   attack={"description": f"two people in view: {portrait} (left) and {other} (right)",
                           "faces": 2, "second_person": second})
    return GeneratedClip(frames=tuple(frames), fps=fps, truth=truth)


_BUILDERS = {
    "static_photo": _static_photo, "printed_photo": _printed_photo, "screen_photo": _screen_photo,
    "screen_replay": _screen_replay, "face_swap": _face_swap, "frozen_frames": _frozen,
    "looped_frames": _looped, "two_faces": _two_faces,
}


# ------------------------------------------------------------------------ files


def save_clip(clip: GeneratedClip, path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write ``clip`` as ``path`` (MP4) and its ground truth beside it (``.json``); returns both paths."""
    video = write_clip(path, clip.frames, clip.fps, audio=clip.audio, sample_rate=clip.sample_rate)
    truth_path = video.with_suffix(".json")
    truth = dict(clip.truth) | {"file": video.name}
    tmp = truth_path.with_suffix(".json.partial")
    tmp.write_text(json.dumps(truth, indent=None, separators=(",", ":"), sort_keys=True) + "\n")
    os.replace(tmp, truth_path)
    return video, truth_path
