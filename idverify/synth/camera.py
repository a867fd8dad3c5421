"""Camera simulation: a flat card (or a copy, print or screen showing it) photographed on a table.

:func:`sample_params` draws :class:`CameraParams` from a numpy ``Generator``;
:func:`capture` places a :class:`Subject` in a frame with a perspective
projection (pinhole camera, yaw / pitch / in-plane roll including upside
down), over a seeded cluttered background, then applies defocus and motion
blur, uneven light, glare spots, sensor noise and JPEG compression. It
returns the JPEG bytes, the decoded pixels and the card's four corners in
image coordinates (the ground truth).

Corners are given in the *card's* order: top-left, top-right, bottom-right,
bottom-left of the upright card, wherever they land in the image (an
upside-down card has its top-left corner near the bottom-right of the frame).

>>> import numpy as np
>>> subject = Subject(np.full((638, 1011, 3), 230, np.uint8))
>>> params = sample_params(np.random.default_rng(0), megapixels=2.0)
>>> shot = capture(subject, params)
>>> shot.image.shape[0] * shot.image.shape[1] > 1.9e6, shot.corners.shape
(True, (4, 2))
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import cv2
import numpy as np

from idverify.results import to_jsonable


@dataclasses.dataclass(frozen=True)
class Subject:
    """What is in front of the camera: RGB pixels, an alpha mask, and where the card is in them.

    ``card_quad`` (4 x 2, pixel coordinates of ``image``; defaults to the whole
    image) is the card region — a screen or a sheet of paper is bigger than the
    card it shows.
    """

    image: np.ndarray
    alpha: np.ndarray | None = None
    card_quad: np.ndarray | None = None
    glossy: float = 1.0  # how strongly glare spots show (laminated card 1, matte paper less)

    def quad(self) -> np.ndarray:
        if self.card_quad is not None:
            return np.asarray(self.card_quad, np.float64)
        h, w = self.image.shape[:2]
        return np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)


@dataclasses.dataclass(frozen=True)
class Glare:
    """A specular spot: centre in card fractions (x, y), radius in card widths, strength (1 = saturating)."""

    x: float
    y: float
    radius: float
    strength: float


@dataclasses.dataclass(frozen=True)
class CameraParams:
    """Everything that decides one capture (all seeded; see :func:`sample_params`)."""

    width: int
    height: int
    card_scale: float  # subject width / frame width, seen straight on (0.15-0.9)
    center: tuple[float, float]  # subject centre in frame fractions
    roll: float  # in-plane rotation, degrees (180 = upside down)
    yaw: float  # rotation about the card's vertical axis, degrees
    pitch: float  # rotation about the card's horizontal axis, degrees
    focal: float  # focal length in frame widths (smaller = stronger perspective)
    defocus: float  # Gaussian sigma in pixels per 1000 px of frame width
    motion: float  # motion blur length in pixels per 1000 px of frame width
    motion_angle: float
    noise: float  # read-noise sigma (0-255 scale); shot noise scales with it
    gain: float  # global exposure multiplier
    white_balance: tuple[float, float, float]
    uneven_light: float  # amplitude of the light gradient (0 = flat)
    light_angle: float
    glare: tuple[Glare, ...]
    jpeg_quality: int
    background_seed: int
    clutter: int  # number of objects on the table

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(dataclasses.asdict(self))


def frame_size(megapixels: float, portrait: bool = False) -> tuple[int, int]:
    """(width, height) of a 4:3 frame of ``megapixels`` (rounded to even numbers)."""
    w = int(round(math.sqrt(megapixels * 1e6 * 4 / 3) / 2) * 2)
    h = int(round(w * 3 / 4 / 2) * 2)
    return (h, w) if portrait else (w, h)


def sample_params(rng: np.random.Generator, **overrides: Any) -> CameraParams:
    """Plausible phone-capture parameters; keyword ``overrides`` fix any field.

    ``megapixels=`` (2-12) and ``portrait=`` pick the frame size unless
    ``width``/``height`` are given.
    """
    mp = float(overrides.pop("megapixels", rng.uniform(2.0, 12.0)))
    portrait = bool(overrides.pop("portrait", rng.random() < 0.25))
    w, h = frame_size(mp, portrait)
    base: dict[str, Any] = {
        "width": w, "height": h,
        "card_scale": float(rng.uniform(0.45, 0.8)) * (0.75 if portrait else 1.0),
        "center": (float(rng.uniform(0.45, 0.55)), float(rng.uniform(0.45, 0.55))),
        "roll": float(rng.normal(0, 6)) + (90.0 if portrait and rng.random() < 0.5 else 0.0),
        "yaw": float(rng.normal(0, 6)), "pitch": float(rng.normal(0, 6)),
        "focal": float(rng.uniform(0.75, 1.3)),
        "defocus": float(rng.uniform(0.0, 0.6)), "motion": float(rng.uniform(0.0, 1.5)),
        "motion_angle": float(rng.uniform(0, 180)),
        "noise": float(rng.uniform(0.6, 1.8)), "gain": float(rng.uniform(0.85, 1.1)),
        "white_balance": (float(rng.uniform(0.92, 1.08)), 1.0, float(rng.uniform(0.9, 1.08))),
        "uneven_light": float(rng.uniform(0.05, 0.3)), "light_angle": float(rng.uniform(0, 360)),
        "glare": (), "jpeg_quality": int(rng.integers(72, 87)),
        "background_seed": int(rng.integers(2**31)), "clutter": int(rng.integers(0, 6)),
    }
    if rng.random() < 0.3:
        base["glare"] = (Glare(float(rng.uniform(0.1, 0.9)), float(rng.uniform(0.05, 0.45)),
                               float(rng.uniform(0.04, 0.1)), float(rng.uniform(0.3, 0.6))),)
    base.update(overrides)
    return CameraParams(**base)


# --- geometry -----------------------------------------------------------------------------------


def _rotation(roll: float, yaw: float, pitch: float) -> np.ndarray:
    r, y, p = np.deg2rad([roll, yaw, pitch])
    rz = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    ry = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    rx = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    return rz @ rx @ ry


def subject_corners(params: CameraParams, subject_size: tuple[int, int]) -> np.ndarray:
    """Where the subject's corners (TL, TR, BR, BL) land in the frame (float, 4 x 2)."""
    sw, sh = subject_size
    aspect = sh / sw
    pts = np.array([[-0.5, -aspect / 2, 0], [0.5, -aspect / 2, 0], [0.5, aspect / 2, 0], [-0.5, aspect / 2, 0]])
    f_px = params.focal * params.width
    distance = f_px / (params.card_scale * params.width)  # in subject widths: 1 unit spans card_scale of the frame
    cam = pts @ _rotation(params.roll, params.yaw, params.pitch).T
    z = cam[:, 2] + distance
    xy = cam[:, :2] * (f_px / z)[:, None]
    return xy + np.array([params.center[0] * params.width, params.center[1] * params.height])


# --- background ---------------------------------------------------------------------------------


def background(width: int, height: int, seed: int, clutter: int) -> np.ndarray:
    """A seeded table top (wood, fabric, plain or paper) with ``clutter`` objects on it."""
    rng = np.random.default_rng(seed)
    sw, sh = max(8, width // 8), max(8, height // 8)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    kind = int(rng.integers(4))
    base = rng.uniform(60, 200, 3).astype(np.float32)
    noise = cv2.resize(rng.standard_normal((sh // 8 + 2, sw // 8 + 2)).astype(np.float32), (sw, sh),
                       interpolation=cv2.INTER_CUBIC)
    if kind == 0:  # wood grain
        base = np.array([150, 105, 65], np.float32) * rng.uniform(0.6, 1.2)
        streaks = cv2.resize(rng.standard_normal((max(4, sh // 3), 5)).astype(np.float32), (sw, sh),
                             interpolation=cv2.INTER_CUBIC)  # long fibres along x
        grain = np.sin(yy / sh * rng.uniform(60, 110) + 0.8 * noise + 0.15 * np.sin(xx / sw * 7))
        tex = 1 + 0.07 * grain[..., None] + 0.06 * streaks[..., None]
    elif kind == 1:  # fabric weave
        weave = np.sin(xx * rng.uniform(0.8, 1.6)) * np.sin(yy * rng.uniform(0.8, 1.6))
        tex = 1 + 0.08 * weave[..., None] + 0.05 * noise[..., None]
    elif kind == 2:  # plain desk with a soft gradient
        tex = 1 + 0.15 * ((xx / sw - 0.5) * rng.uniform(-1, 1))[..., None] + 0.03 * noise[..., None]
    else:  # patterned paper / tablecloth
        period = rng.uniform(6, 14)
        checks = ((xx // period + yy // period) % 2)
        tex = 1 + 0.1 * (checks - 0.5)[..., None] + 0.04 * noise[..., None]
    img = np.clip(base * tex, 0, 255).astype(np.uint8)
    img = cv2.resize(img, (width, height), interpolation=cv2.INTER_LINEAR)
    scale = min(width, height)
    for _ in range(clutter):
        color = tuple(int(c) for c in rng.integers(20, 240, 3))
        cx, cy = int(rng.uniform(0, width)), int(rng.uniform(0, height))
        what = int(rng.integers(4))
        if what == 0:  # a sheet of paper / notebook with ruled lines
            w_, h_ = int(scale * rng.uniform(0.25, 0.5)), int(scale * rng.uniform(0.3, 0.6))
            box = cv2.boxPoints(((cx, cy), (w_, h_), float(rng.uniform(0, 180)))).astype(np.int32)
            cv2.fillPoly(img, [box], (235, 235, 228), cv2.LINE_AA)
            for k in range(1, 12):
                a, b = box[0] + (box[1] - box[0]) * k / 12, box[3] + (box[2] - box[3]) * k / 12
                cv2.line(img, tuple(int(v) for v in a), tuple(int(v) for v in b), (170, 190, 220), 2, cv2.LINE_AA)
        elif what == 1:  # a coin or a mug seen from above
            r = int(scale * rng.uniform(0.03, 0.12))
            cv2.circle(img, (cx, cy), r, color, -1, cv2.LINE_AA)
            cv2.circle(img, (cx, cy), int(r * 0.8), tuple(max(0, c - 40) for c in color), 3, cv2.LINE_AA)
        elif what == 2:  # a pen
            a = rng.uniform(0, np.pi)
            length = scale * rng.uniform(0.2, 0.4)
            p0 = (int(cx - math.cos(a) * length / 2), int(cy - math.sin(a) * length / 2))
            p1 = (int(cx + math.cos(a) * length / 2), int(cy + math.sin(a) * length / 2))
            cv2.line(img, p0, p1, color, max(3, scale // 80), cv2.LINE_AA)
        else:  # keys: a ring and a blade
            r = int(scale * 0.025)
            cv2.circle(img, (cx, cy), r, (180, 180, 170), max(2, r // 4), cv2.LINE_AA)
            blade = np.array([[cx + r, cy - r // 3], [cx + 5 * r, cy - r // 3], [cx + 5 * r, cy + r // 3],
                              [cx + r, cy + r // 3]], np.int32)
            cv2.fillPoly(img, [blade], (190, 170, 90), cv2.LINE_AA)
    return img


# --- the capture --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Capture:
    """One simulated photo: JPEG bytes, decoded RGB pixels, card corners (TL, TR, BR, BL) in pixels."""

    jpeg: bytes
    image: np.ndarray
    corners: np.ndarray
    params: CameraParams

    @property
    def size(self) -> tuple[int, int]:
        return self.params.width, self.params.height


def _motion_kernel(length: float, angle: float) -> np.ndarray:
    n = max(3, round(length) | 1)
    k = np.zeros((n, n), np.float32)
    c = n // 2
    dx, dy = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    cv2.line(k, (round(c - dx * c), round(c - dy * c)), (round(c + dx * c), round(c + dy * c)), 1.0, 1, cv2.LINE_AA)
    return k / k.sum()


def capture(subject: Subject, params: CameraParams, seed: int = 0) -> Capture:
    """Photograph ``subject`` with ``params``; ``seed`` drives the sensor noise."""
    w, h = params.width, params.height
    img_s = subject.image
    sh, sw = img_s.shape[:2]
    alpha_s = subject.alpha if subject.alpha is not None else np.full((sh, sw), 255, np.uint8)
    dst = subject_corners(params, (sw, sh))
    # pre-shrink a subject much larger than its footprint (warpPerspective would alias)
    footprint = max(np.linalg.norm(dst[1] - dst[0]), np.linalg.norm(dst[2] - dst[3]))
    quad = subject.quad()
    if footprint < 0.7 * sw:
        f = footprint / sw
        img_s = cv2.resize(img_s, (max(2, int(sw * f)), max(2, int(sh * f))), interpolation=cv2.INTER_AREA)
        alpha_s = cv2.resize(alpha_s, (img_s.shape[1], img_s.shape[0]), interpolation=cv2.INTER_AREA)
        quad = quad * [img_s.shape[1] / sw, img_s.shape[0] / sh]
        sh, sw = img_s.shape[:2]
    src = np.array([[0, 0], [sw, 0], [sw, sh], [0, sh]], np.float32)
    hom = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    frame: np.ndarray = background(w, h, params.background_seed, params.clutter).astype(np.float32)
    warped = cv2.warpPerspective(img_s, hom, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    a = cv2.warpPerspective(alpha_s, hom, (w, h), flags=cv2.INTER_LINEAR).astype(np.float32) / 255.0
    # soft shadow under the subject
    shadow = cv2.GaussianBlur(a, (0, 0), max(2.0, w / 250))
    shift = np.array([[1, 0, w / 300], [0, 1, w / 200]], np.float32)
    shadow = cv2.warpAffine(shadow, shift, (w, h))
    frame *= (1 - 0.4 * shadow)[..., None]
    frame = frame * (1 - a[..., None]) + warped.astype(np.float32) * a[..., None]
    # light: exposure, white balance, gradient + vignette, glare on the subject
    yy, xx = np.mgrid[0:h:8, 0:w:8].astype(np.float32)
    th = math.radians(params.light_angle)
    grad = ((xx / w - 0.5) * math.cos(th) + (yy / h - 0.5) * math.sin(th)) * 2 * params.uneven_light
    vign = ((xx / w - 0.5) ** 2 + (yy / h - 0.5) ** 2) * 0.35
    light = cv2.resize((1 + grad - vign).astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    frame *= (light * params.gain)[..., None] * np.array(params.white_balance, np.float32)
    card_quad = cv2.perspectiveTransform(quad.reshape(1, 4, 2).astype(np.float32), hom).reshape(4, 2)
    if params.glare:
        unit = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], np.float32)
        to_frame = cv2.getPerspectiveTransform(unit, card_quad)
        card_w = float(np.linalg.norm(card_quad[1] - card_quad[0]))
        for g in params.glare:
            gx, gy = cv2.perspectiveTransform(np.array([[[g.x, g.y]]], np.float32), to_frame)[0, 0]
            sigma = max(2.0, g.radius * card_w)
            spot = np.exp(-(((xx - gx) ** 2 + (yy - gy) ** 2) / (2 * sigma**2))).astype(np.float32)
            spot = cv2.resize(spot, (w, h), interpolation=cv2.INTER_LINEAR)
            frame += (spot * 255 * 1.6 * g.strength * subject.glossy)[..., None] * a[..., None]
    # optics: defocus then motion blur
    scale = w / 1000.0
    if params.defocus > 0.05:
        frame = cv2.GaussianBlur(frame, (0, 0), params.defocus * scale)
    if params.motion * scale >= 2:
        frame = cv2.filter2D(frame, -1, _motion_kernel(params.motion * scale, params.motion_angle))
    # sensor: shot + read noise, then clip and JPEG
    rng = np.random.default_rng(seed)
    frame = np.clip(frame, 0, 255)
    sigma = np.sqrt(params.noise**2 + frame.mean(axis=2) * (params.noise / 80.0))
    luma = rng.standard_normal((h, w), dtype=np.float32) * sigma  # mostly luminance noise, as after a phone ISP
    chroma = rng.standard_normal((h, w, 3), dtype=np.float32) * (0.35 * params.noise)
    frame += luma[..., None] + chroma
    rgb = np.clip(frame + 0.5, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY,
                                                                           int(params.jpeg_quality)])
    if not ok:  # pragma: no cover - OpenCV always encodes a valid uint8 image
        raise RuntimeError("JPEG encoding failed")
    decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if decoded is None:  # pragma: no cover
        raise RuntimeError("JPEG decoding failed")
    decoded = cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)
    return Capture(buf.tobytes(), decoded, card_quad.astype(np.float64), params)


def fit_in_frame(params: CameraParams, subject_size: tuple[int, int], margin: float = 0.02) -> CameraParams:
    """``params`` with the centre (and if needed the scale) moved so the whole subject is in the frame."""
    p = params
    for _ in range(20):
        pts = subject_corners(p, subject_size)
        lo = pts.min(axis=0)
        hi = pts.max(axis=0)
        size = np.array([p.width, p.height], np.float64)
        m = margin * size
        if (hi - lo > size - 2 * m).any():
            p = dataclasses.replace(p, card_scale=p.card_scale * 0.9)
            continue
        shift = np.maximum(m - lo, 0) - np.maximum(hi - (size - m), 0)
        cx, cy = np.array(p.center) + shift / size
        return dataclasses.replace(p, center=(float(cx), float(cy)))
    return p
