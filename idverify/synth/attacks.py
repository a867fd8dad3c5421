"""Presentation attacks and document defects, as labelled transformations.

Recaptures turn a flat :class:`~idverify.synth.cards.CardRender` (rendered at
``ovd_angle=0``) into the :class:`~idverify.synth.camera.Subject` the camera
sees: a photocopy or a colour print on a sheet of paper (no optically
variable response whatever the angle), or the card shown on a phone screen
(bezel, sub-pixel grid that aliases into moiré, emissive colours). Content
defects (altered MRZ digit, substituted portrait, printed fields that
disagree with the MRZ) are made by the renderer's overrides; here are the
helpers that compute them.

>>> alter_mrz(("IDFRAX4RTBPFW46<<<<<<<<<<<<<<<", "9007138F3002119FRA<<<<<<<<<<<6", "MARTIN<<MAELYS<<<<<<<<<<<<<<<<"),
...           "TD1", "document_number")[0]
'IDFRAX4RTBPFW56<<<<<<<<<<<<<<<'
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from idverify.synth.camera import Subject
from idverify.synth.cards import CardRender

# (line, start, end) of the data a check digit covers, for the fields alter_mrz may change
_MRZ_DATA = {
    "TD1": {"document_number": (0, 5, 14), "birth_date": (1, 0, 6), "expiry_date": (1, 8, 14)},
    "FRA_CNI_1995": {"document_number": (1, 0, 12), "birth_date": (1, 27, 33)},
}


def alter_mrz(lines: Sequence[str], fmt: str, field: str = "document_number") -> tuple[str, ...]:
    """Change one character of ``field`` in the MRZ, leaving its check digit as it was.

    The last digit of the field is replaced by the next digit (a letter by the
    next letter), so the check digit no longer matches.
    """
    ln, start, end = _MRZ_DATA[fmt][field]
    line = lines[ln]
    for i in range(end - 1, start - 1, -1):
        c = line[i]
        if c.isdigit():
            new = str((int(c) + 1) % 10)
        elif c.isalpha():
            new = chr((ord(c) - 65 + 1) % 26 + 65)
        else:
            continue
        out = list(lines)
        out[ln] = line[:i] + new + line[i + 1:]
        return tuple(out)
    raise ValueError(f"no character to alter in {field}")


def _on_paper(card: np.ndarray, alpha: np.ndarray, rng: np.random.Generator, paper: tuple[int, int, int],
              margin: float) -> Subject:
    """The card image laid on a sheet of paper bigger than the card (the copy or print)."""
    h, w = card.shape[:2]
    mx, my = int(w * margin), int(h * margin * 1.3)
    sheet = np.empty((h + 2 * my, w + 2 * mx, 3), np.uint8)
    sheet[:] = paper
    region = sheet[my:my + h, mx:mx + w].astype(np.float32)
    a = alpha.astype(np.float32)[..., None] / 255
    sheet[my:my + h, mx:mx + w] = np.clip(region * (1 - a) + card.astype(np.float32) * a, 0, 255).astype(np.uint8)
    edge = np.zeros(sheet.shape[:2], np.uint8)  # the card's outline shows on copies and scans
    cv2.rectangle(edge, (mx, my), (mx + w - 1, my + h - 1), 255, max(1, w // 500))
    sheet[edge > 0] = (sheet[edge > 0] * 0.6).astype(np.uint8)
    quad = np.array([[mx, my], [mx + w, my], [mx + w, my + h], [mx, my + h]], np.float64)
    return Subject(sheet, None, quad, glossy=0.25)


def photocopy(card: CardRender, rng: np.random.Generator, colour: bool = False) -> Subject:
    """A photocopy: grey (or flat, posterised colour), crushed contrast, toner specks, on paper."""
    img: np.ndarray = card.image.astype(np.float32)
    if colour:
        img = np.round(img / 48) * 48  # few flat colour levels
        img = img * 0.85 + img.mean(axis=2, keepdims=True) * 0.15
    else:
        g = cv2.cvtColor(card.image, cv2.COLOR_RGB2GRAY).astype(np.float32)
        img = np.repeat(g[..., None], 3, axis=2)
    img = np.clip((img - 60) * 1.35 + 60, 0, 255)  # copier contrast: whites blow out, greys darken
    img = cv2.GaussianBlur(img.astype(np.float32), (0, 0), 0.9).astype(np.float32)
    h, w = img.shape[:2]
    specks = rng.random((h, w)) < 0.002
    img[specks] = img[specks] * 0.25
    streak_x = int(rng.integers(w))
    img[:, streak_x:streak_x + 2] = img[:, streak_x:streak_x + 2] * 0.8  # drum streak
    paper = (246, 245, 240)
    return _on_paper(np.clip(img, 0, 255).astype(np.uint8), card.alpha, rng, paper, 0.12)


def print_copy(card: CardRender, rng: np.random.Generator) -> Subject:
    """A colour print on plain paper: desaturated, halftone screen, matte."""
    img: np.ndarray = card.image.astype(np.float32)
    grey = img.mean(axis=2, keepdims=True)
    img = grey + (img - grey) * 0.75
    img = 255 * (img / 255) ** 1.15
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    period = 4.0
    dots = 0.5 + 0.5 * np.cos(2 * np.pi * (xx + yy) / (period * 1.41)) * np.cos(2 * np.pi * (xx - yy) / (period * 1.41))
    img = img * (0.9 + 0.1 * dots[..., None])
    img = cv2.GaussianBlur(img, (0, 0), 0.6) + rng.normal(0, 2.0, img.shape).astype(np.float32)
    return _on_paper(np.clip(img, 0, 255).astype(np.uint8), card.alpha, rng, (250, 250, 247), 0.10)


def screen(card: CardRender, rng: np.random.Generator, subpixels: int = 3) -> Subject:
    """The card shown full-width on a phone screen: RGB stripe pixel grid, bezel, emissive colours."""
    img = card.image
    h, w = img.shape[:2]
    disp = cv2.resize(img, (w * subpixels, h * subpixels), interpolation=cv2.INTER_NEAREST).astype(np.float32)
    mask = np.full((subpixels, subpixels, 3), 0.28, np.float32)  # stripes: one sub-pixel column per channel
    for c in range(3):
        mask[:, c % subpixels, c] = 1.0
    mask[-1, :, :] *= 0.45  # dark row between pixels
    disp *= np.tile(mask, (h, w, 1)) * 2.1
    disp = disp * np.array([0.95, 1.0, 1.12], np.float32) + 18  # cool, emissive, raised blacks
    sh, sw = disp.shape[:2]
    bx, by = int(sw * 0.06), int(sh * 0.22)  # phone held landscape: big bezel on the short sides
    phone = np.zeros((sh + 2 * by, sw + 2 * bx, 3), np.uint8)
    phone[:] = (18, 18, 22)
    phone[by:by + sh, bx:bx + sw] = np.clip(disp, 0, 255).astype(np.uint8)
    alpha = np.zeros(phone.shape[:2], np.uint8)
    r = int(min(phone.shape[:2]) * 0.12)
    cv2.rectangle(alpha, (r, 0), (phone.shape[1] - r, phone.shape[0]), 255, -1)
    cv2.rectangle(alpha, (0, r), (phone.shape[1], phone.shape[0] - r), 255, -1)
    for cx, cy in ((r, r), (phone.shape[1] - r, r), (r, phone.shape[0] - r), (phone.shape[1] - r, phone.shape[0] - r)):
        cv2.circle(alpha, (cx, cy), r, 255, -1, cv2.LINE_AA)
    cv2.circle(phone, (bx // 2, phone.shape[0] // 2), max(3, bx // 6), (40, 40, 48), -1, cv2.LINE_AA)  # camera
    quad = np.array([[bx, by], [bx + sw, by], [bx + sw, by + sh], [bx, by + sh]], np.float64)
    return Subject(phone, alpha, quad, glossy=1.3)
