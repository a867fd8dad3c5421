"""OCR-B glyph reader for the MRZ: line segmentation on the fixed-pitch grid and a small classifier.

The classifier is built from Debian's OCR-B font (``fonts-ocr-b``) at build
time: random MRZ lines are rendered, degraded (blur, stroke thickness, scale,
noise, JPEG, slight rotation), segmented by the *same* code that reads real
images, and each cell becomes a 16 x 24 feature patch. A PCA basis and
k-means prototypes per character are stored in ``models/ocrb_glyphs.npz``
(manifest entry ``ocrb_glyphs``; ``python -m idverify.models build``
regenerates it). Classification is the nearest prototype; the margin to the
best prototype of another character is the confidence, and the runner-up
characters of unsure cells are handed to :func:`idverify.ocr.mrz.parse_mrz`
as the only repairs it may try.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import os
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"
OCRB_FONT = Path("/usr/share/fonts/opentype/ocr-b/OCRB.otf")
MODEL_NAME = "ocrb_glyphs"
MODEL_FILE = "models/ocrb_glyphs.npz"
CELL_W, CELL_H = 16, 24
_PCA_DIMS = 48
_PROTOTYPES = 24


# --- binarisation and components ---------------------------------------------------------------


def binarize(gray: np.ndarray, char_height: float) -> np.ndarray:
    """Ink = 255: local mean threshold with a window of ~2.5 character heights."""
    block = max(11, int(char_height * 2.5) | 1)
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 12)


@dataclasses.dataclass(frozen=True, slots=True)
class Blob:
    x: int
    y: int
    w: int
    h: int

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


def blobs(binary: np.ndarray, min_h: int = 5, max_h: int = 400) -> list[Blob]:
    """Character-like connected components."""
    _n, _labels, stats, _c = cv2.connectedComponentsWithStats(binary, connectivity=8)
    x, y, w, h, area = (stats[1:, k].astype(np.int64) for k in range(5))
    keep = (h >= min_h) & (h <= max_h) & (area >= 0.08 * w * h) & (w <= 12 * h) & (w >= 0.08 * h)
    return [Blob(int(a), int(b), int(c), int(d)) for a, b, c, d in zip(x[keep], y[keep], w[keep], h[keep],
                                                                        strict=True)]


def centers(line: Sequence[Blob]) -> list[float]:
    """x centres of the characters of a line: a blob much wider than tall (touching fillers ``<<<``
    or merged glyphs) counts as several characters of pitch ~ its height."""
    hs = sorted(b.h for b in line)
    h = hs[len(hs) // 2] if hs else 1
    out: list[float] = []
    for b in line:
        k = max(1, round(b.w / (0.95 * h))) if b.w > 1.45 * h else 1
        out += [b.x + b.w * (i + 0.5) / k for i in range(k)]
    return out


def weight(chain: Sequence[Blob]) -> int:
    """Characters in a chain (see :func:`centers`)."""
    return len(centers(chain))


def chain_lines(items: Sequence[Blob], min_len: int = 12, max_dy: float = 0.6) -> list[list[Blob]]:
    """Text lines as chains of blobs of similar height, each linked to a right neighbour
    (tolerates skew up to ~30 degrees). Links are accepted shortest first, one in and one out
    per blob. Returns chains of at least ``min_len`` blobs, each sorted by x."""
    n = len(items)
    if n < 2:
        return []
    x = np.array([b.x for b in items], np.float32)
    w = np.array([b.w for b in items], np.float32)
    h = np.array([b.h for b in items], np.float32)
    cx, cy = x + w / 2, np.array([b.cy for b in items], np.float32)
    edges_i, edges_j, edges_d = [], [], []
    step = max(1, 4_000_000 // max(n, 1))
    for a0 in range(0, n, step):
        a = slice(a0, min(n, a0 + step))
        hmax = np.maximum(h[a, None], h[None, :])
        dx = cx[None, :] - cx[a, None]
        dy = np.abs(cy[None, :] - cy[a, None])
        ratio = h[None, :] / h[a, None]
        ok = (dx > 0.3 * np.minimum(h[a, None], h[None, :])) & (x[None, :] >= x[a, None] + 0.5 * w[a, None])
        ok &= x[None, :] <= x[a, None] + w[a, None] + 1.6 * h[a, None]
        ok &= (ratio > 0.45) & (ratio < 2.2) & (dy <= max_dy * hmax)
        ii, jj = np.nonzero(ok)
        if len(ii):
            hm = hmax[ii, jj]
            edges_d.append(dx[ii, jj] / hm + 3 * dy[ii, jj] / hm)
            edges_i.append(ii + a0)
            edges_j.append(jj)
    if not edges_d:
        return []
    d_all = np.concatenate(edges_d)
    i_all, j_all = np.concatenate(edges_i), np.concatenate(edges_j)
    nxt = np.full(n, -1)
    prev = np.full(n, -1)
    for k in np.argsort(d_all, kind="stable"):
        i, j = int(i_all[k]), int(j_all[k])
        if nxt[i] < 0 and prev[j] < 0:
            nxt[i], prev[j] = j, i
    chains = []
    for start in np.argsort(x, kind="stable"):
        if prev[start] >= 0:
            continue
        chain = [int(start)]
        while nxt[chain[-1]] >= 0:
            chain.append(int(nxt[chain[-1]]))
        if len(chain) >= 3:
            blobs_of = _trim([items[k] for k in chain])
            if weight(blobs_of) >= min_len:
                chains.append(blobs_of)
    return chains


def _trim(chain: list[Blob]) -> list[Blob]:
    """Drop stray blobs at the ends of a chain (an MRZ line has no gaps: fillers are printed)."""
    while len(chain) > 3:
        h = float(np.median([b.h for b in chain]))
        gaps = np.diff([b.cx for b in chain])
        pitch = float(np.median(gaps))
        if chain[0].h < 0.6 * h or gaps[0] > 1.45 * max(pitch, chain[0].w / 2 + chain[1].w / 2):
            chain = chain[1:]
        elif chain[-1].h < 0.6 * h or gaps[-1] > 1.45 * max(pitch, chain[-1].w / 2 + chain[-2].w / 2):
            chain = chain[:-1]
        else:
            break
    return chain


# --- grid and cells ----------------------------------------------------------------------------


def fit_grid(centers: Sequence[float], n: int, ink_columns: np.ndarray | None = None) -> tuple[float, float]:
    """(origin, pitch) of ``n`` equally spaced cells best fitting the blob ``centers`` (sorted).

    The pitch comes from the median spacing of neighbouring blobs (robust to a
    missed or merged character); when the blobs span fewer than ``n`` cells,
    the missing cells go to the side where ``ink_columns`` (column ink
    profile) shows ink.
    """
    c = np.asarray(centers, dtype=np.float64)
    if len(c) < 2:
        return float(c[0]) if len(c) else 0.0, 1.0
    d = np.diff(c)
    med = float(np.median(d))
    good = d[(d > 0.6 * med) & (d < 1.4 * med)]
    pitch = float(np.median(good)) if len(good) else med
    # cell index of each blob from the rounding of each local spacing (no drift over long lines)
    steps = np.maximum(np.round(d / pitch), 0)
    k = np.concatenate([[0.0], np.cumsum(steps)])
    if len(np.unique(k)) >= 2:
        pitch, origin = (float(v) for v in np.polyfit(k, c, 1))
    else:
        origin = float(c[0])
    for _ in range(2):
        k = np.round((c - origin) / pitch)
        if len(np.unique(k)) < 2:
            break
        pitch, origin = (float(v) for v in np.polyfit(k, c, 1))
    k = np.round((c - origin) / pitch)
    lo, hi = int(k.min()), int(k.max())
    span = hi - lo + 1
    origin += lo * pitch
    if span == n or ink_columns is None:
        return origin, pitch
    # choose which cells to add (span < n) or which blobs to drop (span > n) by the ink in the cells
    shifts = range(-(n - span), 1) if span < n else range(0, span - n + 1)
    best, best_ink = 0, -1.0
    for s in shifts:
        ink = 0.0
        for j in range(n):
            x0 = round(origin + (s + j - 0.4) * pitch)
            x1 = round(origin + (s + j + 0.4) * pitch)
            if 0 <= x0 < x1 <= len(ink_columns):
                ink += float(ink_columns[x0:x1].sum())
            else:
                ink -= 1e6  # outside the image
        if ink > best_ink:
            best, best_ink = s, ink
    return origin + best * pitch, pitch


def estimate_count(centers: Sequence[float], choices: Sequence[int]) -> int:
    """Which of ``choices`` (characters per line) the spacing of the blobs fits best."""
    c = np.asarray(centers, dtype=np.float64)
    if len(c) < 3:
        return int(choices[0])
    d = np.diff(c)
    pitch = float(np.median(d[(d > 0.5 * np.median(d)) & (d < 1.6 * np.median(d))])) if len(d) else 1.0
    span = (c[-1] - c[0]) / max(pitch, 1e-6) + 1
    return int(min(choices, key=lambda n: abs(n - span)))


def line_cells(binary: np.ndarray, line: Sequence[Blob], n: int) -> np.ndarray:
    """``n`` feature patches (n x CELL_H*CELL_W, float32) for one line of blobs on the grid.

    The grid is fitted along the line with a pitch that may change linearly
    (perspective), and each cell's vertical window follows the line's slope
    and height where it is.
    """
    xs = centers(line)
    hs = sorted(b.h for b in line)
    h = hs[len(hs) * 3 // 4]
    bx = np.array([b.cx for b in line])
    by = np.array([b.cy for b in line])
    bh = np.array([b.h for b in line], np.float64)
    tall = bh >= 0.75 * np.median(bh)
    if tall.sum() >= 6 and np.ptp(bx[tall]) > 0:
        y_fit = np.polyfit(bx[tall], by[tall], 1)
        h_fit = np.polyfit(bx[tall], bh[tall], 1)
        h_fit[1] += h - float(np.polyval(h_fit, np.median(bx[tall])))
    else:
        y_fit = np.array([0.0, float(np.median(by))])
        h_fit = np.array([0.0, float(h)])
    height, width = binary.shape
    cy_mid = float(np.median(by))
    y0, y1 = round(cy_mid - 0.62 * h), round(cy_mid + 0.62 * h)
    strip = np.zeros((max(1, y1 - y0), width), np.uint8)
    sy0, sy1 = max(0, y0), min(height, y1)
    if sy1 > sy0:
        strip[sy0 - y0:sy1 - y0] = binary[sy0:sy1]
    origin, pitch = fit_grid(xs, n, (strip > 0).sum(axis=0).astype(np.float64))
    # refine: cell k at a + b k + c k^2 (perspective makes the pitch change along the line)
    xa = np.asarray(xs, np.float64)
    if len(xa) >= 2:
        d = np.diff(xa)
        padded = np.pad(d, 3, mode="edge")
        local = np.median(np.lib.stride_tricks.sliding_window_view(padded, 7), axis=1)
        k_of = np.concatenate([[0.0], np.cumsum(np.maximum(1, np.round(d / np.maximum(local, 1e-6))))])
        k_of += round((xa[0] - origin) / pitch)
    else:
        k_of = np.round((xa - origin) / pitch)
    inside = (k_of >= 0) & (k_of < n)
    position = np.array([origin + k * pitch for k in range(n)])
    if inside.sum() >= 12 and len(np.unique(k_of[inside])) >= 12:
        coef = np.polyfit(k_of[inside], np.asarray(xs)[inside], 2)
        candidate = np.polyval(coef, np.arange(n))
        if np.all(np.diff(candidate) > 0.5 * pitch) and np.all(np.diff(candidate) < 1.5 * pitch):
            position = candidate
    local_pitch = np.gradient(position) if n > 1 else np.array([pitch])
    feats = np.zeros((n, CELL_H * CELL_W), np.float32)
    for k in range(n):
        cx, p = float(position[k]), float(local_pitch[k])
        hk = max(3.0, float(np.polyval(h_fit, cx)))
        cyk = float(np.polyval(y_fit, cx))
        top, bottom = round(cyk - 0.62 * hk), round(cyk + 0.62 * hk)
        x0, x1 = round(cx - p / 2), round(cx + p / 2)
        window = _crop(binary, x0, x1, top, bottom)
        cols = np.flatnonzero(window.max(axis=0)) if window.size else np.array([])
        if cols.size:  # centre the ink (grid phase errors of a fraction of a pitch)
            shift = round((cols[0] + cols[-1]) / 2 - (x1 - x0) / 2)
            shift = max(-int(p * 0.3), min(int(p * 0.3), shift))
            window = _crop(binary, x0 + shift, x1 + shift, top, bottom)
        feats[k] = cell_feature(window)
    return feats


def _crop(binary: np.ndarray, x0: int, x1: int, y0: int, y1: int) -> np.ndarray:
    """``binary[y0:y1, x0:x1]`` padded with background where it leaves the image."""
    height, width = binary.shape
    out = np.zeros((max(1, y1 - y0), max(1, x1 - x0)), np.uint8)
    sx0, sx1, sy0, sy1 = max(0, x0), min(width, x1), max(0, y0), min(height, y1)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = binary[sy0:sy1, sx0:sx1]
    return out


def cell_feature(window: np.ndarray) -> np.ndarray:
    """A binary cell resized to CELL_W x CELL_H, as floats in [0, 1]."""
    if window.size == 0:
        return np.zeros(CELL_H * CELL_W, np.float32)
    patch = cv2.resize(window, (CELL_W, CELL_H), interpolation=cv2.INTER_AREA)
    return (patch.astype(np.float32) / 255.0).ravel()


# --- classifier --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class GlyphModel:  # not slots: cached_property
    mean: np.ndarray  # (D,)
    basis: np.ndarray  # (D, P)
    prototypes: np.ndarray  # (M, P)
    labels: np.ndarray  # (M,) indexes into ALPHABET
    version: str

    def distances(self, feats: np.ndarray) -> np.ndarray:
        """(n, 37) distance of each feature row to the nearest prototype of each character."""
        # einsum, not BLAS: these products are tiny, and a BLAS thread pool on a busy machine costs
        # more waiting than computing
        z = np.einsum("nd,dp->np", feats - self.mean, self.basis, optimize=False)
        d = (z * z).sum(1)[:, None] - 2 * np.einsum("np,mp->nm", z, self.prototypes, optimize=False) \
            + (self.prototypes ** 2).sum(1)[None, :]
        order, starts = self._grouping
        per_class = np.minimum.reduceat(d[:, order], starts, axis=1)
        return np.sqrt(np.maximum(per_class, 0))

    @functools.cached_property
    def _grouping(self) -> tuple[np.ndarray, np.ndarray]:
        order = np.argsort(self.labels, kind="stable")
        labels = self.labels[order]
        starts = np.searchsorted(labels, np.arange(len(ALPHABET)))
        if len(np.unique(labels)) != len(ALPHABET):
            raise ValueError("the glyph model lacks prototypes for some characters")
        return order, starts

    def classify(self, feats: np.ndarray, allowed: Sequence[str] | None = None,
                 per_class: np.ndarray | None = None) -> tuple[list[str], np.ndarray, list[str]]:
        """(characters, margins, runner-up characters) for each feature row.

        ``allowed`` optionally restricts each row to a set of characters (the
        MRZ format says where only digits or only letters can be). The margin
        is (d2 - d1) / (d2 + d1) between the best and the runner-up character:
        0 = a tie, 1 = certain.
        """
        per_class = self.distances(feats) if per_class is None else per_class.copy()
        if allowed is not None:
            for row, chars in enumerate(allowed):
                mask = np.array([c not in chars for c in ALPHABET])
                if not mask.all():
                    per_class[row, mask] = np.inf
        order = np.argsort(per_class, axis=1)
        rows = np.arange(len(feats))
        best = per_class[rows, order[:, 0]]
        second = per_class[rows, order[:, 1]]
        margins = np.where(np.isfinite(second), (second - best) / np.maximum(second + best, 1e-6), 1.0)
        return [ALPHABET[i] for i in order[:, 0]], margins, [ALPHABET[i] for i in order[:, 1]]


@functools.cache
def load_model() -> GlyphModel:
    """The glyph model from its verified path (built by ``python -m idverify.models build``)."""
    from idverify.models import model_path

    with np.load(model_path(MODEL_NAME)) as data:
        return GlyphModel(data["mean"], data["basis"], data["prototypes"], data["labels"], str(data["version"]))


# --- building the model from the font ----------------------------------------------------------


def render_line(text: str, char_height: int, rng: np.random.Generator | None = None,
                font_path: Path = OCRB_FONT) -> np.ndarray:
    """A grey image (ink dark on light) of one MRZ line in OCR-B, optionally degraded like a capture."""
    from PIL import Image, ImageDraw, ImageFont

    size = max(6, round(char_height / 0.72))  # cap height is ~72 % of the em
    font = ImageFont.truetype(str(font_path), size)
    width = int(font.getlength(text) * 1.15) + 2 * size
    img = Image.new("L", (width, int(size * 2.2)), 255)
    ink = 20 if rng is None else int(rng.integers(0, 80))
    paper = 235 if rng is None else int(rng.integers(170, 256))
    img.paste(paper, (0, 0, img.width, img.height))
    ImageDraw.Draw(img).text((size + int(font.getlength(text) * 0.075), int(size * 0.6)), text, font=font, fill=ink)
    gray = np.asarray(img, dtype=np.uint8)
    return gray if rng is None else degrade(gray, rng, char_height, paper)


def degrade(gray: np.ndarray, rng: np.random.Generator, char_height: float, paper: int = 235) -> np.ndarray:
    """Capture-like degradation: stroke thickness, slight rotation and scale, blur, noise,
    background texture, JPEG."""
    g: np.ndarray = gray.astype(np.float32)
    if rng.random() < 0.5:  # stroke thickness (ink spread or thin print)
        k = np.ones((2, 2), np.uint8)
        g = cv2.erode(g, k) if rng.random() < 0.5 else cv2.dilate(g, k)
    angle = rng.normal(0, 0.6)
    sx, sy = rng.uniform(0.9, 1.1), rng.uniform(0.9, 1.1)
    m = cv2.getRotationMatrix2D((g.shape[1] / 2, g.shape[0] / 2), angle, 1.0)
    m[0] *= sx
    m[1] *= sy
    g = cv2.warpAffine(g, m, (g.shape[1], g.shape[0]), borderValue=float(paper))
    sigma = rng.uniform(0, 1.4) * char_height / 20
    if sigma > 0.2:
        g = cv2.GaussianBlur(g, (0, 0), sigma)
    noise = rng.normal(0, rng.uniform(0, 14), g.shape)
    # background texture (guilloche-like gradients)
    yy, xx = np.mgrid[0:g.shape[0], 0:g.shape[1]]
    texture = rng.uniform(0, 12) * np.sin(xx / rng.uniform(5, 40) + yy / rng.uniform(5, 40))
    out: np.ndarray = np.clip(np.asarray(g, np.float64) + noise + texture, 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        ok, enc = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(35, 90))])
        decoded = cv2.imdecode(enc, cv2.IMREAD_GRAYSCALE) if ok else None
        if decoded is not None:
            out = np.asarray(decoded)
    return out


def random_mrz_line(rng: np.random.Generator, n: int) -> str:
    """Random text with MRZ statistics (runs of fillers, digits, letters)."""
    out: list[str] = []
    while len(out) < n:
        kind = rng.random()
        run = int(rng.integers(1, 8))
        if kind < 0.25:
            out += ["<"] * run
        elif kind < 0.55:
            out += list(rng.choice(list("0123456789"), run))
        else:
            out += list(rng.choice(list(ALPHABET[:26]), run))
    return "".join(out[:n])


def training_cells(text: str, gray: np.ndarray, char_height: float) -> np.ndarray | None:
    """Features of a rendered line, segmented as real images are (None if segmentation failed)."""
    binary = binarize(gray, char_height)
    chains = chain_lines(blobs(binary, min_h=max(4, int(char_height * 0.4))), min_len=len(text) // 3)
    if len(chains) != 1 or len(chains[0]) != len(text):
        return None  # only cleanly segmented lines, so that every cell's label is right
    return line_cells(binary, chains[0], len(text))


def build_glyph_model(path: str | os.PathLike | None = None, lines: int = 1500, seed: int = 20240521) -> Path:
    """Render, degrade, segment and learn the OCR-B glyphs; write the .npz (same content for a seed, under the same
    BLAS kernel: ``idverify.models.BUILD_ENV["ocrb_glyphs"]`` in the environment gives the committed file)."""
    from idverify.models import MODELS_DIR

    rng = np.random.default_rng(seed)
    cv2.setRNGSeed(seed)
    feats, labels = [], []
    counts = np.zeros(len(ALPHABET), int)
    for i in range(lines):
        n = (30, 36, 44)[i % 3]
        text = random_mrz_line(rng, n)
        if i % 7 == 0:  # make sure every character is well represented
            text = "".join(ALPHABET[(i // 7 + j) % len(ALPHABET)] for j in range(n))
        height = int(rng.integers(11, 40))
        gray = render_line(text, height, rng if i % 10 else None)
        cells = training_cells(text, gray, height)
        if cells is None:
            continue
        feats.append(cells)
        idx = [ALPHABET.index(c) for c in text]
        labels += idx
        counts += np.bincount(idx, minlength=len(ALPHABET))
    x = np.concatenate(feats)
    y = np.array(labels)
    mean = x.mean(0)
    _u, _s, vt = np.linalg.svd(x - mean, full_matrices=False)
    basis = vt[:_PCA_DIMS].T.astype(np.float32)
    z = ((x - mean) @ basis).astype(np.float32)
    protos, plabels = [], []
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 40, 1e-3)
    for c in range(len(ALPHABET)):
        zc = z[y == c]
        k = min(_PROTOTYPES, len(zc))
        if k == 0:
            continue
        _compact, _lab, centers = cv2.kmeans(zc, k, None, criteria, 2,  # type: ignore[call-overload]
                                                cv2.KMEANS_PP_CENTERS)
        protos.append(centers)
        plabels += [c] * k
    target = Path(path) if path is not None else MODELS_DIR / "ocrb_glyphs.npz"
    target.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    np.savez_compressed(buf, mean=mean.astype(np.float32), basis=basis,
                        prototypes=np.concatenate(protos).astype(np.float32),
                        labels=np.array(plabels, np.int16), version=np.array("ocrb-glyphs-1"),
                        samples=np.array(len(y)))
    target.write_bytes(buf.getvalue())
    return target
