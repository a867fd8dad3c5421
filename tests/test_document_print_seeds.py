"""Card outlines seeded by the print: a small card lying across a ruled sheet, two of its edges faint."""

from __future__ import annotations

import cv2
import numpy as np

from idverify.document.print_seeds import print_regions, print_seeded_outlines, seed_outlines


def _scene() -> tuple[np.ndarray, np.ndarray]:
    """A pale card with dark print, half on a ruled white sheet, on a brown table; the card's true corners."""
    img = np.zeros((480, 640, 3), np.uint8)
    img[:] = (150, 95, 60)  # the table (RGB)
    sheet = np.array([[60, 40], [330, 60], [310, 450], [40, 430]], np.int32)
    cv2.fillPoly(img, [sheet], (238, 236, 228))
    for y in range(70, 440, 24):  # ruled lines, thin and blue
        cv2.line(img, (50, y), (322, y + 20), (150, 170, 215), 1)
    centre, size, angle = (330.0, 250.0), (190.0, 120.0), 20.0
    card = cv2.boxPoints((centre, size, angle)).astype(np.float64)
    cv2.fillPoly(img, [card.astype(np.int32)], (232, 232, 236))  # a few levels from the sheet: faint edges there
    # the print, drawn on the card's own canvas (190 x 120) and mapped onto it: a portrait, lines of text
    canvas = np.zeros((120, 190), np.uint8)
    for x in range(12, 60, 6):  # the portrait: fine dark detail, as a photo has
        for y in range(24, 100, 6):
            cv2.circle(canvas, (x, y), 2, 255, -1)
    for y in range(18, 112, 13):
        cv2.putText(canvas, "NOM PRENOM 1990", (68, y), cv2.FONT_HERSHEY_SIMPLEX, 0.36, 255, 1)
    to_card = cv2.getAffineTransform(np.float32([[0, 120], [0, 0], [190, 0]]), card[:3].astype(np.float32))
    img[cv2.warpAffine(canvas, to_card, (640, 480)) > 100] = (40, 40, 70)
    return cv2.GaussianBlur(img, (3, 3), 0), card


def _error(outline: np.ndarray, card: np.ndarray) -> float:
    """Largest corner distance, whatever corner each starts from, as a share of the card's longer side."""
    return min(float(np.max(np.linalg.norm(np.roll(outline, k, axis=0) - card, axis=1))) for k in range(4)) / 190.0


def test_print_region_lies_on_the_card_not_the_ruled_sheet() -> None:
    img, card = _scene()
    regions = print_regions(img)
    inside = [r for r in regions if cv2.pointPolygonTest(card.astype(np.float32), r[0], False) > 0]
    assert inside and len(inside) == len(regions)  # the ruled lines make no region
    assert all(max(r[1]) < 190 for r in inside)  # the print, inside the card's margins (at each closing)


def test_seeds_have_the_card_aspects() -> None:
    seeds = seed_outlines(((100.0, 100.0), (80.0, 40.0), 0.0))
    assert len(seeds) == 6
    for seed in seeds:
        sides = sorted(float(np.linalg.norm(seed[i] - seed[(i + 1) % 4])) for i in range(4))
        assert 1.40 < sides[2] / sides[0] < 1.60


def test_an_outline_seeded_by_the_print_lies_on_the_card() -> None:
    img, card = _scene()
    outlines = print_seeded_outlines(img)
    assert outlines
    assert min(_error(o, card) for o in outlines) < 0.02


def test_no_print_no_seed() -> None:
    img = np.full((480, 640, 3), 200, np.uint8)
    cv2.rectangle(img, (100, 100), (400, 300), (90, 90, 90), -1)  # a plain grey box: edges, no print
    assert print_seeded_outlines(img) == []
