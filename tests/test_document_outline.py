"""Outline refinement: a side on a printed band's inner edge is moved out to the card's edge, and only then."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from idverify.document.outline import (
    BAND_MIN_CONTRAST,
    REACHED_MIN_CONTRAST,
    extend_to_card_edge,
    is_convex,
    polish_in_crop,
    polish_outline,
    refine_outline,
)

CARD = np.array([[150, 120], [850, 120], [850, 561], [150, 561]], np.float64)  # 700 x 441 px: ID-1
BAND = round(0.045 * 700)  # a tinted band along the left side, 4.5 % of the card wide


def _card(background: tuple[int, int, int] = (70, 60, 50), band: bool = True) -> np.ndarray:
    img = np.full((700, 1000, 3), background, np.uint8)
    cv2.fillPoly(img, [CARD.astype(np.int32)], (226, 228, 230))
    if band:
        cv2.rectangle(img, (150, 120), (150 + BAND, 561), (150, 170, 215), -1)
    cv2.putText(img, "CARTE NATIONALE", (260, 250), cv2.FONT_HERSHEY_SIMPLEX, 1.4, (40, 40, 120), 3)
    return cv2.GaussianBlur(img, (3, 3), 0)


def _error(corners: np.ndarray) -> float:
    return float(np.max(np.linalg.norm(corners - CARD, axis=1)))


def test_side_on_a_band_moves_out_to_the_card_edge() -> None:
    on_band = CARD + np.array([[BAND, 0], [0, 0], [0, 0], [BAND, 0]], np.float64)
    out = extend_to_card_edge(_card(), on_band)
    assert is_convex(out)
    assert _error(out) < 3.0  # from 31 px off


def test_side_on_a_band_moves_out_under_perspective() -> None:
    on_band = CARD + np.array([[BAND, 0], [0, 0], [0, 0], [BAND, 0]], np.float64)
    src = CARD.astype(np.float32)
    dst = (CARD + np.array([[40, 30], [-30, 0], [-10, -10], [60, -40]], np.float64)).astype(np.float32)
    warp = cv2.getPerspectiveTransform(src, dst)
    img = cv2.warpPerspective(_card(), warp, (1000, 700), borderMode=cv2.BORDER_REPLICATE)
    seen = cv2.perspectiveTransform(on_band.reshape(-1, 1, 2), warp).reshape(4, 2)
    out = extend_to_card_edge(img, seen)
    truth = cv2.perspectiveTransform(CARD.reshape(-1, 1, 2), warp).reshape(4, 2)
    assert float(np.max(np.linalg.norm(out - truth, axis=1))) < 4.0


def test_right_outline_stays_put_beside_a_parallel_stripe() -> None:
    """A straight stripe of the background parallel to a side, just beyond it, is not the card's edge: the strip
    between is background, like what lies beyond the adjacent sides."""
    img = _card(band=False)
    cv2.rectangle(img, (150 - 40, 0), (150 - 34, 699), (200, 200, 200), -1)  # a stripe 34-40 px left of the card
    out = extend_to_card_edge(img, CARD)
    assert out is CARD


def test_no_band_and_no_card_leave_the_outline_alone() -> None:
    assert extend_to_card_edge(_card(band=False), CARD) is CARD
    blank = np.full((700, 1000, 3), 128, np.uint8)
    assert extend_to_card_edge(blank, CARD) is CARD
    tiny = CARD * 0.05
    assert extend_to_card_edge(_card(), tiny) is tiny
    sliver = np.array([[150, 300], [850, 300], [850, 310], [150, 310]], np.float64)
    assert extend_to_card_edge(_card(), sliver) is sliver
    bowtie = CARD[[0, 2, 1, 3]]
    assert extend_to_card_edge(_card(), bowtie) is bowtie


def test_polish_turns_a_side_whose_corner_is_far_off() -> None:
    """A search outline with one corner two polish windows off (a glare or a merged object there), on a card seen
    foreshortened: the short side through that corner, ~8.6 deg off, is turned back onto the card's edge."""
    card = np.array([[150, 120], [850, 120], [850, 450], [150, 450]], np.float64)  # pitched: 700 x 330 px
    img = np.full((700, 1000, 3), (70, 60, 50), np.uint8)
    cv2.fillPoly(img, [card.astype(np.int32)], (226, 228, 230))
    img = cv2.GaussianBlur(img, (3, 3), 0)
    off = card.copy()
    off[3] += np.array([50.0, 0.0])
    polished = polish_in_crop(img, off, window=0.04 * 700)
    assert polished is not None
    assert float(np.max(np.linalg.norm(polished - card, axis=1))) < 2.0


INSET = round(0.04 * 700)  # a portrait's edge printed 4 % of the card's width inside its left side


def _card_with_portrait(table: np.ndarray, sheet: tuple[tuple[int, int], tuple[int, int], tuple[int, int, int]],
                        card: tuple[int, int, int], portrait: tuple[int, int, tuple[int, int, int]]) -> np.ndarray:
    """``table`` with a sheet (corner, corner, colour) under the card's left side, the card, and its portrait
    (top, bottom, colour) from ``INSET`` inside the card's left side."""
    img = table.copy()
    cv2.rectangle(img, sheet[0], sheet[1], sheet[2], -1)
    cv2.fillPoly(img, [CARD.astype(np.int32)], card)
    cv2.rectangle(img, (150 + INSET, portrait[0]), (400, portrait[1]), portrait[2], -1)
    return cv2.GaussianBlur(img, (3, 3), 0)


def _assert_moves_out_from_the_portrait(img: np.ndarray) -> None:
    """The left side found on the portrait's edge moves out to the card's."""
    on_line = CARD + np.array([[INSET, 0], [0, 0], [0, 0], [INSET, 0]], np.float64)
    out = extend_to_card_edge(img, on_line)
    assert is_convex(out)
    assert _error(out) < 3.0  # from 28 px off


def test_side_on_a_printed_line_moves_out_where_the_adjacent_edges_run_on() -> None:
    """A white card half on a white sheet, its left side found on a portrait's edge printed 4 % inside: the
    card's own edge is faint against the sheet, but the bottom side's edge runs on past the corner to it."""
    img = _card_with_portrait(np.full((700, 1000, 3), (70, 60, 50), np.uint8),
                              ((0, 0), (320, 470), (248, 248, 246)), (228, 230, 234), (150, 535, (150, 150, 156)))
    _assert_moves_out_from_the_portrait(img)


def test_side_on_a_printed_line_moves_out_where_a_pale_card_hardly_stands_out() -> None:
    """A pale pink card on a pink table, its lower left on a white sheet, its left side found on a portrait's edge
    printed 4 % inside. At the top the card stands out from the table by less than BAND_MIN_CONTRAST, at the
    bottom not at all from the sheet: the top side's edge running on past the corner, and stopping at the card's
    edge, is what tells that the strip is card."""
    img = _card_with_portrait(np.full((700, 1000, 3), (225, 196, 212), np.uint8),  # a pink table
                              ((0, 380), (330, 699), (248, 248, 246)), (236, 222, 230), (180, 500, (150, 150, 156)))
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB).astype(float)
    assert 15 < np.linalg.norm(lab[140, 200] - lab[100, 200]) < BAND_MIN_CONTRAST  # card against table, at the top
    _assert_moves_out_from_the_portrait(img)


def test_side_on_a_printed_line_moves_out_where_the_card_stands_out_at_neither_end() -> None:
    """A white card's left part on a white sheet, its left side found on a portrait's edge printed 4 % inside: at
    both ends the card stands out from the sheet by less than REACHED_MIN_CONTRAST, so no strip's colour tells; the
    top and bottom sides' edges running on past the corners, and stopping at the card's edge, tell alone."""
    img = _card_with_portrait(np.full((700, 1000, 3), (70, 60, 50), np.uint8),
                              ((0, 0), (330, 699), (248, 248, 246)), (232, 234, 238), (180, 500, (150, 150, 156)))
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB).astype(float)
    for inside, beyond in ((140, 100), (540, 580)):  # card against sheet, at the top and the bottom
        assert np.linalg.norm(lab[inside, 200] - lab[beyond, 200]) < REACHED_MIN_CONTRAST
    _assert_moves_out_from_the_portrait(img)


def test_side_on_a_printed_line_moves_out_where_half_the_card_edge_shows() -> None:
    """The card's left side over a sheet of its own white for a little over half its length and over a grainy
    table for the rest, found on a portrait's edge printed 4 % inside: the card's edge shows on under half the
    side, so its median step over the whole side is nil; where it shows, and where the bottom side's edge stops,
    it is strong."""
    table = np.random.default_rng(5).integers(40, 110, (700, 1000, 3)).astype(np.uint8)
    img = _card_with_portrait(table, ((0, 0), (330, 350), (244, 244, 242)), (244, 244, 244),
                              (150, 535, (180, 172, 186)))
    _assert_moves_out_from_the_portrait(img)


@pytest.mark.parametrize(("stripe", "moved", "by"), [
    (((0, 561 + 45), (999, 561 + 49)), [2, 3], (0, 47)),  # the bottom side, 47 px below the card
    (((150 - 86, 0), (150 - 82, 699)), [3, 0], (-84, 0)),  # the left side, 12 % of the card's width left of it
])
def test_side_on_a_background_line_moves_in_where_the_adjacent_edges_begin(
        stripe: tuple[tuple[int, int], tuple[int, int]], moved: list[int], by: tuple[int, int]) -> None:
    """A side found on a straight stripe of the table beyond the card: the adjacent sides have no edge there, over
    the table; they begin at the card's corners, and the card's edge lies there."""
    img = _card(band=False)
    cv2.rectangle(img, *stripe, (120, 110, 95), -1)  # a stripe of the table's grain
    found = CARD.copy()
    found[moved] += np.array(by, np.float64)
    out = extend_to_card_edge(img, found)
    assert is_convex(out)
    assert _error(out) < 3.0


def test_side_on_a_sheet_edge_crossing_the_card_moves_to_the_card_edge() -> None:
    """A card lying on a sheet whose edge runs under it at an angle: the right side found on the sheet's edge, 10 px
    inside the card at the top and 47 px beyond it at the bottom (where the sheet's edge shows against the table).
    The bottom side's edge begins at the card's corner, the top side's runs on to it: the card's edge lies there."""
    img = np.full((700, 1000, 3), (70, 60, 50), np.uint8)
    top, bottom = (840.0, 120.0), (897.0, 561.0)
    slope = (bottom[0] - top[0]) / (bottom[1] - top[1])
    sheet = np.array([[top[0] - slope * top[1], 0], [999, 0], [999, 699], [top[0] + slope * (699 - top[1]), 699]])
    cv2.fillPoly(img, [sheet.astype(np.int32)], (236, 236, 228))
    cv2.fillPoly(img, [CARD.astype(np.int32)], (226, 228, 230))
    cv2.putText(img, "CARTE NATIONALE", (260, 250), cv2.FONT_HERSHEY_SIMPLEX, 1.4, (40, 40, 120), 3)
    img = cv2.GaussianBlur(img, (3, 3), 0)
    found = CARD.copy()
    found[1], found[2] = top, bottom
    out = extend_to_card_edge(img, found)
    assert is_convex(out)
    assert _error(out) < 3.0  # from 47 px off


def test_side_on_a_ruled_line_moves_to_the_card_edge_beyond_the_window() -> None:
    """A pale card on a white ruled sheet, its left side found on a ruled line (a ridge) beside it, 20 px out at
    the top and 50 px at the bottom: the card's faint edge leaves the polish window half way down, so no step
    covers the side there; a step within three windows does, and is the card's edge."""
    img = np.full((700, 1000, 3), (70, 60, 50), np.uint8)
    cv2.rectangle(img, (0, 0), (640, 699), (248, 248, 246), -1)  # the sheet, under the card's left part
    for top in (130, 70, 10):  # ruled lines running 30 px out over the card's height, 60 px apart
        cv2.line(img, (top + 27, -280), (top - 57, 961), (150, 170, 220), 2)  # x = top - 30 (y - 120) / 441
    cv2.fillPoly(img, [CARD.astype(np.int32)], (234, 226, 232))
    img = cv2.GaussianBlur(img, (3, 3), 0)
    on_line = CARD + np.array([[-20, 0], [0, 0], [0, 0], [-50, 0]], np.float64)
    out = polish_outline(img, on_line)
    assert _error(out) < 2.0  # from 50 px off


def test_refine_outline_moves_out_past_two_printed_steps() -> None:
    """A card with two tinted bands along its left side (to 4.5 % and to 11 % of its width), its left side found on
    the inner band's edge: the card's edge lies beyond the band search's reach from there, the outer band's edge
    within it; the refinement moves the side out step by step to the card's edge."""
    img = np.full((700, 1000, 3), (70, 60, 50), np.uint8)
    cv2.fillPoly(img, [CARD.astype(np.int32)], (226, 228, 230))
    inner = round(0.11 * 700)
    cv2.rectangle(img, (150, 120), (150 + inner, 561), (190, 215, 170), -1)
    cv2.rectangle(img, (150, 120), (150 + BAND, 561), (150, 170, 215), -1)
    cv2.putText(img, "CARTE NATIONALE", (260, 250), cv2.FONT_HERSHEY_SIMPLEX, 1.4, (40, 40, 120), 3)
    img = cv2.GaussianBlur(img, (3, 3), 0)
    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    gmag = cv2.magnitude(cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3))
    on_inner = CARD + np.array([[inner, 0], [0, 0], [0, 0], [inner, 0]], np.float64)
    out = refine_outline(img, on_inner, gmag, 1.0)
    assert is_convex(out)
    assert _error(out) < 3.0  # from 77 px off
