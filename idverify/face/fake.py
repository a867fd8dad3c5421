"""A scripted face engine for unit tests of the selection and fusion logic.

Images encode what the fake "sees" in four grey vertical bands, so that the
logic under test can resize them or convert them to grey freely:

* band 1: the identity (0-255); identity 0 means no face;
* band 2: 40 x the number of faces;
* band 3: the face side as a fraction of the image's shorter side, in 1/255;
* band 4: 255 when the eyes are open, 0 when closed.

>>> import numpy as np
>>> engine = FakeEngine()
>>> frame = fake_frame(identity=7, faces=1)
>>> [b.width > 0 for b in engine.detect(frame)]
[True]
>>> float(engine.encode([engine.align(frame, engine.detect(frame)[0])])[0, 7])
0.5
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from idverify.face.engine import CHIP_SIZE, Box


def fake_frame(identity: int, faces: int = 1, face_fraction: float = 0.5, size: tuple[int, int] = (360, 480),
               eyes_open: bool = True) -> np.ndarray:
    """A frame the fake engine reads as ``faces`` faces of ``identity``."""
    frame = np.zeros((*size, 3), np.uint8)
    values = (identity, 40 * faces, round(face_fraction * 255), 255 if eyes_open else 0)
    quarter = size[1] // 4
    for band, value in enumerate(values):
        frame[:, band * quarter:(band + 1) * quarter] = value
    return frame


class FakeEngine:
    """Deterministic FaceEngine: faces, landmarks and embeddings from pixel values."""

    version = "fake-engine 1"

    def __init__(self) -> None:
        self.detect_calls = 0
        self.encoded = 0

    @staticmethod
    def _read(image: np.ndarray) -> tuple[int, int, float, bool]:
        grey = image if image.ndim == 2 else image[..., 0]
        quarter = grey.shape[1] // 4
        bands = [float(np.median(grey[:, b * quarter + quarter // 4:(b + 1) * quarter - quarter // 4]))
                 for b in range(4)]
        return round(bands[0]), round(bands[1] / 40), bands[2] / 255.0, bands[3] > 127

    def detect(self, image: np.ndarray, upsample: int = 0) -> list[Box]:
        self.detect_calls += 1
        identity, faces, fraction, _ = self._read(image)
        if identity == 0 or faces == 0:
            return []
        height, width = image.shape[:2]
        side = max(1, int(min(height, width) * fraction))
        boxes = []
        for i in range(faces):
            left = min(width - side, i * (width // max(faces, 1)))
            boxes.append(Box(left, 0, left + side, side, score=1.0 - 0.1 * i))
        return boxes

    def detect_precise(self, image: np.ndarray) -> list[Box]:
        """The same faces as :meth:`detect` (the fake has one detector)."""
        return self.detect(image)

    def landmarks(self, image: np.ndarray, box: Box) -> np.ndarray:
        """A frontal 68-point layout inside ``box``; eyes closed when the frame's marker says so."""
        points = np.zeros((68, 2))
        cx, cy, s = (box.left + box.right) / 2, (box.top + box.bottom) / 2, box.side
        points[0:17, 0] = np.linspace(box.left, box.right, 17)
        points[0:17, 1] = cy + s * 0.2
        opening = 0.12 if self._read(image)[3] else 0.005
        for start, ex in ((36, cx - 0.2 * s), (42, cx + 0.2 * s)):
            w = 0.1 * s
            points[start:start + 6] = [(ex - w, cy - 0.1 * s), (ex - w / 3, cy - 0.1 * s - opening * s),
                                       (ex + w / 3, cy - 0.1 * s - opening * s), (ex + w, cy - 0.1 * s),
                                       (ex + w / 3, cy - 0.1 * s + opening * s),
                                       (ex - w / 3, cy - 0.1 * s + opening * s)]
        points[30] = (cx, cy)
        return points

    def align(self, image: np.ndarray, box: Box) -> np.ndarray:
        identity = self._read(image)[0]
        chip = np.zeros((CHIP_SIZE, CHIP_SIZE, 3), np.uint8)
        chip[..., 0] = identity
        return chip

    def encode(self, chips: Sequence[np.ndarray], jitters: int = 0) -> np.ndarray:
        """Identity ``k`` maps to 0.5 on axis ``k`` (distinct identities are 0.71 apart)."""
        self.encoded += len(chips)
        out = np.zeros((len(chips), 128))
        for row, chip in enumerate(chips):
            out[row, int(chip[0, 0, 0]) % 128] = 0.5
        return out
