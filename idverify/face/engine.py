"""The face-engine port and its face_recognition (dlib) adapter.

The port is what idverify needs from a face engine — detect, landmarks,
align, encode — so that the comparison and liveness logic can be tested with
a fake (:mod:`idverify.face.fake`) and the encoder can be swapped for a
faster one running the same network.

Nothing heavy happens at import: :func:`default_engine` imports
face_recognition (which loads dlib's models) on first call, after checking
every model file against ``models/manifest.json``.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import threading
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import cv2
import numpy as np

from idverify.errors import EngineError
from idverify.models import model_path

CHIP_SIZE = 150  # dlib's face encoder input: 150 x 150 aligned chip
CHIP_PADDING = 0.25  # dlib's default padding around the 5 landmarks
PRECISE_SIDE = 320  # the CNN detector's working size (its cost grows with the pixel count)


@dataclasses.dataclass(frozen=True, slots=True)
class Box:
    """A face box in pixel coordinates (right and bottom exclusive), with the detector's score."""

    left: int
    top: int
    right: int
    bottom: int
    score: float = 0.0

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def side(self) -> int:
        return min(self.width, self.height)

    def scaled(self, factor: float) -> Box:
        """The same box in an image resized by ``factor``."""
        return Box(round(self.left * factor), round(self.top * factor), round(self.right * factor),
                   round(self.bottom * factor), self.score)

    def to_dict(self) -> dict[str, Any]:
        return {"left": self.left, "top": self.top, "right": self.right, "bottom": self.bottom,
                "score": round(self.score, 3)}


@runtime_checkable
class FaceEngine(Protocol):
    """What idverify needs from a face engine. Images are RGB ``uint8`` arrays."""

    @property
    def version(self) -> str:
        """Engine, model and encoder versions, recorded in every result."""
        ...

    def detect(self, image: np.ndarray, upsample: int = 0) -> list[Box]:
        """Face boxes, best first. ``image`` may be RGB or grey."""
        ...

    def detect_precise(self, image: np.ndarray) -> list[Box]:
        """A slower, more tolerant detector for single images where :meth:`detect` found nothing."""
        ...

    def landmarks(self, image: np.ndarray, box: Box) -> np.ndarray:
        """The 68 iBUG landmarks of the face in ``box``, shape (68, 2), float."""
        ...

    def align(self, image: np.ndarray, box: Box) -> np.ndarray:
        """The 150 x 150 RGB chip the encoder takes (5-point alignment)."""
        ...

    def encode(self, chips: Sequence[np.ndarray], jitters: int = 0) -> np.ndarray:
        """128-d embeddings of aligned chips, shape (n, 128), float64."""
        ...


@runtime_checkable
class ChipEncoder(Protocol):
    """Turns aligned 150 x 150 chips into 128-d embeddings (same network, any runtime)."""

    name: str

    def encode(self, chips: Sequence[np.ndarray], jitters: int = 0) -> np.ndarray: ...


class DlibChipEncoder:
    """dlib's own ResNet (face_recognition's ``face_encoder``)."""

    name = "dlib"

    def __init__(self, encoder: Any) -> None:
        self._encoder = encoder

    def encode(self, chips: Sequence[np.ndarray], jitters: int = 0) -> np.ndarray:
        if not chips:
            return np.zeros((0, 128))
        if jitters:
            rows = [self._encoder.compute_face_descriptor(np.ascontiguousarray(c), jitters) for c in chips]
        else:
            rows = self._encoder.compute_face_descriptor([np.ascontiguousarray(c) for c in chips])
        return np.asarray([np.asarray(r, dtype=np.float64) for r in rows], dtype=np.float64).reshape(-1, 128)


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "?"


class FaceRecognitionEngine:
    """face_recognition's HOG detector, dlib shape predictors and ResNet encoder.

    Uses the objects face_recognition loads (so the models are the ones the
    user asked for), but calls them directly: detection once per image, the
    68-point predictor only where landmarks are needed, batched encoding.
    """

    def __init__(self, encoder: ChipEncoder | None = None) -> None:
        for name in ("shape_predictor_68_face_landmarks", "shape_predictor_5_face_landmarks",
                     "dlib_face_recognition_resnet_model_v1", "mmod_human_face_detector"):
            model_path(name)  # raises ModelError naming the fix when missing or altered
        from PIL import ImageFile

        truncated_flag = ImageFile.LOAD_TRUNCATED_IMAGES
        try:
            import dlib
            import face_recognition.api as fr_api
        except (ImportError, SystemExit) as exc:  # face_recognition quit()s when models are missing
            raise EngineError("engine_error",
                              f"face_recognition is not importable ({exc}); run scripts/setup.sh") from None
        finally:
            # face_recognition's import sets Pillow's global LOAD_TRUNCATED_IMAGES = True, which would
            # make every later truncated JPEG decode silently; put the host's setting back.
            ImageFile.LOAD_TRUNCATED_IMAGES = truncated_flag
        self._dlib = dlib
        self._detector = fr_api.face_detector
        self._cnn = fr_api.cnn_face_detector
        self._pose68 = fr_api.pose_predictor_68_point
        self._pose5 = fr_api.pose_predictor_5_point
        self._encoder: ChipEncoder = encoder or DlibChipEncoder(fr_api.face_encoder)
        self._lock = threading.Lock()  # dlib objects are not documented as thread-safe
        self._version = (f"face_recognition {_version('face_recognition')}, dlib {dlib.__version__}, "
                         f"models {_version('face_recognition_models')}")

    @property
    def version(self) -> str:
        return f"{self._version}, encoder {self._encoder.name}"

    def detect(self, image: np.ndarray, upsample: int = 0) -> list[Box]:
        with self._lock:
            rects, scores, _ = self._detector.run(np.ascontiguousarray(image), upsample, 0.0)
        height, width = image.shape[:2]
        boxes = [Box(max(r.left(), 0), max(r.top(), 0), min(r.right() + 1, width), min(r.bottom() + 1, height),
                     float(s)) for r, s in zip(rects, scores, strict=True)]
        return sorted(boxes, key=lambda b: -b.score)

    def detect_precise(self, image: np.ndarray) -> list[Box]:
        """dlib's CNN (MMOD) detector on a copy at most 320 px wide: about a second on one core."""
        height, width = image.shape[:2]
        factor = min(1.0, PRECISE_SIDE / max(height, width))
        small = image if factor == 1.0 else cv2.resize(image, (round(width * factor), round(height * factor)),
                                                        interpolation=cv2.INTER_AREA)
        rgb = np.ascontiguousarray(small if small.ndim == 3 else np.repeat(small[:, :, None], 3, axis=2))
        with self._lock:
            found = self._cnn(rgb, 0)
        boxes = [Box(max(d.rect.left(), 0), max(d.rect.top(), 0), min(d.rect.right() + 1, rgb.shape[1]),
                     min(d.rect.bottom() + 1, rgb.shape[0]), float(d.confidence)).scaled(1.0 / factor)
                 for d in found]
        return sorted(boxes, key=lambda b: -b.score)

    def _rect(self, box: Box) -> Any:
        return self._dlib.rectangle(box.left, box.top, box.right - 1, box.bottom - 1)

    def landmarks(self, image: np.ndarray, box: Box) -> np.ndarray:
        with self._lock:
            shape = self._pose68(np.ascontiguousarray(image), self._rect(box))
        return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)

    def align(self, image: np.ndarray, box: Box) -> np.ndarray:
        rgb = np.ascontiguousarray(image if image.ndim == 3 else np.repeat(image[:, :, None], 3, axis=2))
        with self._lock:
            shape = self._pose5(rgb, self._rect(box))
            chip = self._dlib.get_face_chip(rgb, shape, size=CHIP_SIZE, padding=CHIP_PADDING)
        return np.asarray(chip)

    def encode(self, chips: Sequence[np.ndarray], jitters: int = 0) -> np.ndarray:
        with self._lock:
            return self._encoder.encode(chips, jitters)


_default: FaceEngine | None = None
_default_lock = threading.Lock()


def default_engine() -> FaceEngine:
    """The process-wide face engine, created on first use (fast encoder when available, else dlib's)."""
    global _default
    with _default_lock:
        if _default is None:
            from idverify.face.fast_encoder import load_fast_encoder

            _default = FaceRecognitionEngine(encoder=load_fast_encoder())
        return _default


def set_default_engine(engine: FaceEngine | None) -> None:
    """Replace the process-wide engine (tests, or a host with its own engine)."""
    global _default
    with _default_lock:
        _default = engine
