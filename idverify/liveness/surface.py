"""Screen and print cues on a few frames: periodic texture (pixel grid, moiré, halftone), prop borders.

* ``periodic``: a filmed screen or print carries a fine periodic pattern (the
  display's pixel grid and its moiré with the camera's sensor, the printer's
  halftone screen). In the spectrum of the face region, such patterns stand
  out as isolated peaks above the spectrum's radial median; natural skin and
  backgrounds fall off smoothly. Video-codec block edges (8-pixel grid) are
  masked out.
* ``border``: the straight edges of a phone, tablet, monitor or sheet of
  paper around the face: long line segments close to the face on several
  sides, none of them crossing it.
* ``glare``: the share of the face that is clipped to white with no colour
  (the specular sheen or the over-exposure of a filmed, backlit screen);
* colour evidence (saturation, contrast) is reported for the reviewer but
  does not decide.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> smooth = cv2.GaussianBlur(rng.normal(128, 40, (128, 128)), (0, 0), 3)
>>> grid = smooth + 25 * np.cos(2 * np.pi * np.arange(128) / 3.3)[None, :]
>>> periodic_score(grid.astype(np.float32)) > periodic_score(smooth.astype(np.float32)) + 1
True
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from idverify.config import LIVENESS, LivenessConfig
from idverify.face.engine import Box
from idverify.liveness.track import FaceTrack
from idverify.results import Check


def periodic_score(grey: np.ndarray) -> float:
    """Height (natural log units) of the strongest isolated high-frequency spectral peak of ``grey``."""
    height, width = grey.shape[:2]
    if min(height, width) < 24:
        return 0.0
    patch = grey.astype(np.float32) - float(grey.mean())
    window = np.outer(np.hanning(height), np.hanning(width)).astype(np.float32)
    spectrum = np.abs(np.fft.rfft2(patch * window))
    log_mag = np.log(spectrum + 1e-3)
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.rfftfreq(width)[None, :]
    radius = np.sqrt(fx * fx + fy * fy)
    band = (radius >= 0.12) & (radius <= 0.5)
    # codec blocks: energy at multiples of 1/8 cycle per pixel on either axis
    step_x, step_y = 1.0 / width, 1.0 / height
    block_x = np.abs(fx * 8 - np.round(fx * 8)) * (1 / 8) <= 1.5 * step_x
    block_y = np.abs(fy * 8 - np.round(fy * 8)) * (1 / 8) <= 1.5 * step_y
    axis = (np.abs(fx) <= 1.5 * step_x) | (np.abs(fy) <= 1.5 * step_y)
    usable = band & ~block_x & ~block_y & ~axis
    if usable.sum() < 50:
        return 0.0
    bins = np.minimum((radius / 0.02).astype(int), 30)
    median = np.zeros(31, np.float32)
    for b in np.unique(bins[usable]):
        median[b] = np.median(log_mag[usable & (bins == b)])
    residual = log_mag - median[bins]
    return float(np.max(residual[usable]))


def border_lines(grey: np.ndarray, box: Box) -> dict[str, float]:
    """The nearest long straight edge on each side of the face, as offsets from the face centre in face sides.

    Keys among ``left``, ``right``, ``top``, ``bottom`` (and ``<side>_outside``:
    the mean grey just beyond that edge); a line counts when
    it is at least 0.7 face sides long, roughly parallel to that side, spans
    the face (vertically or horizontally) and does not cross it.
    """
    height, width = grey.shape[:2]
    side = max(box.width, box.height, 1)
    x0, y0 = max(0, box.left - 2 * side), max(0, box.top - 2 * side)
    x1, y1 = min(width, box.right + 2 * side), min(height, box.bottom + 3 * side)
    region = grey[y0:y1, x0:x1]
    if region.size == 0:
        return {}
    edges = cv2.Canny(cv2.GaussianBlur(region, (5, 5), 0), 40, 120)
    lines = cv2.HoughLinesP(edges, 1, np.pi / 180, threshold=max(30, side // 3), minLineLength=int(0.7 * side),
                            maxLineGap=max(3, side // 6))
    if lines is None:
        return {}
    cx, cy = (box.left + box.right) / 2.0 - x0, (box.top + box.bottom) / 2.0 - y0
    fl, ft, fr, fb = box.left - x0, box.top - y0, box.right - x0, box.bottom - y0
    found: dict[str, float] = {}

    def keep(name: str, offset: float) -> None:
        if name not in found or abs(offset) < abs(found[name]):
            found[name] = offset

    for x_a, y_a, x_b, y_b in np.asarray(lines).reshape(-1, 4).astype(float):
        dx, dy = x_b - x_a, y_b - y_a
        if abs(dy) > 2.5 * abs(dx):  # near vertical
            x = (x_a + x_b) / 2.0
            spans = min(y_a, y_b) <= fb and max(y_a, y_b) >= ft
            if spans and fl - 1.5 * side <= x < fl - 0.05 * side:
                keep("left", (x - cx) / side)
            elif spans and fr + 0.05 * side < x <= fr + 1.5 * side:
                keep("right", (x - cx) / side)
        elif abs(dx) > 2.5 * abs(dy):  # near horizontal
            y = (y_a + y_b) / 2.0
            spans = min(x_a, x_b) <= fr and max(x_a, x_b) >= fl
            if spans and ft - 1.5 * side <= y < ft - 0.05 * side:
                keep("top", (y - cy) / side)
            elif spans and fb + 0.3 * side < y <= fb + 2.5 * side:
                keep("bottom", (y - cy) / side)
    # brightness just outside each edge (away from the face): a device bezel is dark, a paper margin light
    for name in [n for n in ("left", "right", "top", "bottom") if n in found]:
        band = max(2, side // 12)
        if name in ("left", "right"):
            x = round(cx + found[name] * side)
            lo, hi = (x - 2 * band, x - band // 2) if name == "left" else (x + band // 2, x + 2 * band)
            strip = region[max(0, int(ft)):max(0, int(fb)), max(0, lo):max(0, hi)]
        else:
            y = round(cy + found[name] * side)
            lo, hi = (y - 2 * band, y - band // 2) if name == "top" else (y + band // 2, y + 2 * band)
            strip = region[max(0, lo):max(0, hi), max(0, int(fl)):max(0, int(fr))]
        if strip.size:
            found[f"{name}_outside"] = float(strip.mean())
    return found


def prop_border(found: Sequence[dict[str, float]], centres: np.ndarray, sides: np.ndarray) -> tuple[float, dict]:
    """How strongly straight edges frame the face *and move with it* (0..1), with the numbers behind it.

    A phone, tablet or sheet held up to the camera shows its edges all around
    the face, at a constant offset from the face while the face moves in the
    image. Edges in a room (door frames) stay put when the face moves.
    """
    sides_found = [{k for k in f if k in ("left", "right", "top", "bottom")} for f in found]
    framed = [({"left", "right"} <= f) or ({"top", "bottom"} <= f) or len(f) >= 3 for f in sides_found]
    boxed = [len(f) == 4 for f in sides_found]
    share = float(np.mean(framed)) if framed else 0.0
    share4 = float(np.mean(boxed)) if boxed else 0.0
    travel = float(np.max(np.ptp(centres / np.median(sides), axis=0))) if len(centres) > 1 else 0.0
    spreads = []
    for name in ("left", "right", "top", "bottom"):
        offsets = [f[name] for f in found if name in f]
        if len(offsets) >= max(3, len(found) // 2):
            spreads.append(float(np.std(offsets)))
    spread = min(spreads) if spreads else float("inf")
    moving_with_face = travel >= 0.25 and spread <= 0.12
    still = travel < 0.25
    # a whole rectangle around the face decides; partial framing (a doorway, a studio set, a face-centred
    # crop) only supports other cues; edges that stay put while the face moves count less
    weight = 1.0 if moving_with_face else (0.9 if still else 0.4)
    score = max(max(weight, 0.75) * share4, weight * 0.45 * share)
    outside = [v for f in found for k, v in f.items() if k.endswith("_outside")]
    kind = "device" if outside and float(np.median(outside)) < 90 else "paper"
    return score, {"border_kind": kind if score > 0 else None,
                   "framed_fraction": round(share, 2), "boxed_fraction": round(share4, 2),
                   "face_travel": round(travel, 3),
                   "edge_offset_spread": None if not np.isfinite(spread) else round(spread, 3)}


def _colour(rgb: np.ndarray) -> tuple[float, float, float]:
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    sat = float(np.median(hsv[..., 1])) / 255.0
    value = hsv[..., 2].astype(np.float32)
    contrast = float(np.percentile(value, 98) - np.percentile(value, 2)) / 255.0
    specular = float(np.mean((value > 245) & (hsv[..., 1] < 40)))
    return sat, contrast, specular


def surface_check(frames: Sequence[np.ndarray], track: FaceTrack, config: LivenessConfig = LIVENESS,
                  indexes: Sequence[int] | None = None, samples: int = 10) -> Check:
    """``surface``: screen / print cues on ``samples`` tracked frames.

    Score (0..1, attack at ``max_screen_score``): the largest of the periodic
    peak (median over frames; ``surface_peak_scale`` maps to the threshold),
    the clipped-highlight share of the face (a backlit screen filmed with
    auto-exposure; ``surface_glare_scale`` maps to the threshold) and the
    prop-border score.
    """
    valid = np.flatnonzero(track.valid)
    if len(valid) == 0:
        return Check("surface", passed=True, score=0.0, threshold=config.max_screen_score,
                     evidence={"frames": [], "note": "no face"})
    chosen = sorted({int(valid[int(i)]) for i in np.linspace(0, len(valid) - 1, min(samples, len(valid))).round()})
    peaks, found, colours, centres, sides = [], [], [], [], []
    for pos in chosen:
        box = track.boxes[pos]
        assert box is not None
        frame = frames[pos]
        grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) if frame.ndim == 3 else frame
        height, width = grey.shape[:2]
        pad = int(0.15 * box.width)
        crop = grey[max(0, box.top - pad):min(height, box.bottom + pad),
                    max(0, box.left - pad):min(width, box.right + pad)]
        peaks.append(periodic_score(crop))
        found.append(border_lines(grey, box))
        centres.append(((box.left + box.right) / 2.0, (box.top + box.bottom) / 2.0))
        sides.append(max(box.width, box.height))
        if frame.ndim == 3:
            colours.append(_colour(frame[box.top:box.bottom, box.left:box.right]))
    peak = float(np.median(peaks))
    border, border_evidence = prop_border(found, np.asarray(centres, float), np.asarray(sides, float))
    periodic = config.max_screen_score * peak / config.surface_peak_scale
    sat, contrast, specular = (float(np.median([c[i] for c in colours])) if colours else 0.0 for i in range(3))
    glare = config.max_screen_score * specular / config.surface_glare_scale
    score = max(periodic, border, glare)

    def frame_of(pos: int) -> int:
        return int(indexes[pos]) if indexes is not None else pos

    evidence = {
        "periodic_peak": round(peak, 3), "periodic_peaks": [round(p, 2) for p in peaks],
        "border_score": round(border, 3), **border_evidence,
        "border_sides": [sorted(k for k in f if not k.endswith("_outside")) for f in found],
        "saturation": round(sat, 3), "contrast": round(contrast, 3), "specular_fraction": round(specular, 4),
        "frames": [frame_of(p) for p in chosen],
    }
    passed = score < config.max_screen_score
    reason = None
    if not passed:
        # a periodic pattern, glare or a dark bezel: a screen; a light margin: paper
        device = border_evidence["border_kind"] == "device"
        reason = "screen_replay" if max(periodic, glare) >= border or device else "print_attack"
    return Check("surface", passed=passed, reason=reason, score=score, threshold=config.max_screen_score,
                 evidence=evidence)
