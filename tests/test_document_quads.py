"""Card candidates: the memo shared by the searches on one image changes no candidate, only the work done."""

from __future__ import annotations

import cv2
import numpy as np

from idverify.document import quads
from idverify.document.quads import edge_maps, find_quads, lab_gradients


def _photo() -> np.ndarray:
    rng = np.random.default_rng(3)
    img = rng.integers(60, 90, (480, 640, 3), dtype=np.uint8)  # a grainy table
    card = np.array([[150, 130], [470, 118], [482, 322], [160, 330]], np.int32)
    cv2.fillPoly(img, [card], (228, 226, 222))
    cv2.rectangle(img, (420, 40), (600, 300), (245, 245, 245), -1)  # a sheet beside it, under one corner
    cv2.putText(img, "CARTE NATIONALE", (190, 200), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (40, 40, 120), 2)
    return cv2.GaussianBlur(img, (3, 3), 0)


def _key(found: list[quads.Quad]) -> list[tuple[bytes, float]]:
    return [(q.corners.tobytes(), q.score) for q in found]


def test_searches_sharing_a_memo_find_the_same_candidates(monkeypatch) -> None:
    img = _photo()
    gradients = lab_gradients(img)
    maps, sensitive = edge_maps(img, gradients=gradients), edge_maps(img, sensitive=True, gradients=gradients)
    alone = [find_quads(img, maps=maps), find_quads(img, maps=sensitive), find_quads(img, lines_only=True, maps=maps)]
    assert alone[0], "the card is a candidate"
    refined = []
    real_refine = quads.refine_sides
    monkeypatch.setattr(quads, "refine_sides", lambda *a, **k: refined.append(1) or real_refine(*a, **k))
    memo: dict[tuple[str, bytes], quads.Quad | None] = {}
    first = find_quads(img, maps=maps, memo=memo)
    calls_first = len(refined)
    again = find_quads(img, maps=maps, memo=memo)
    assert len(refined) == calls_first > 0  # every outline of the first search is remembered
    shared = [first, find_quads(img, maps=sensitive, memo=memo), find_quads(img, lines_only=True, maps=maps, memo=memo)]
    assert [_key(f) for f in shared] == [_key(f) for f in alone]
    assert _key(again) == _key(first)
    # the edges at both thresholds come from the same gradients as edge_maps computes alone. OpenCV's magnitude
    # can differ in the last bit from one buffer to another, which can swap the strongest channel where two are
    # equal: the float maps agree to 1e-4 but on a few pixels.
    for sens, got in ((False, maps), (True, sensitive)):
        fresh = edge_maps(img, sens)
        assert np.array_equal(fresh[0], got[0])
        assert all(np.mean(np.abs(a - b) > 1e-4) < 1e-3 for a, b in zip(fresh[1:], got[1:], strict=True))
