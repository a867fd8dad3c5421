"""dlib's face ResNet, same weights, run by onnxruntime (optimised GEMM, no compilation).

The ``dlib-bin`` wheel runs the 128-d encoder without BLAS (~80 ms a face on
one core). At set-up time :func:`build_model` reads the network out of
``dlib_face_recognition_resnet_model_v1.dat`` (:mod:`idverify.face.dlib_dat`)
and writes it as an ONNX graph into ``models/`` (listed with its sha256 in
``models/manifest.json``; ``python -m idverify.models build`` runs it).
:class:`OnnxChipEncoder` runs that graph on the same 150 x 150 chips dlib's
aligner makes (:class:`OpenCvChipEncoder`, slower, when onnxruntime is not
installed); embeddings match dlib's to ~1e-6, so thresholds calibrated on
dlib stay valid. :func:`load_fast_encoder` returns ``None`` when the
converted file is unavailable, and the engine then keeps dlib's own encoder.

The conversion mirrors dlib exactly: ``(pixel - mean) / 256`` input
normalisation, convolutions with dlib's default paddings (none for stride 2),
``affine_`` (frozen batch norm) folded into the convolution before it,
residual ``add_prev`` that zero-pads the smaller operand at the bottom/right and
in the extra channels (as dlib's ``tt::add`` does), global average pool, and
the bias-free 256 -> 128 fully connected layer.

>>> chip = np.full((150, 150, 3), 128, np.uint8)
>>> jitter_chips(chip, 3, np.random.default_rng(0)).shape
(3, 150, 150, 3)
"""

from __future__ import annotations

import importlib
import math
import os
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from idverify.errors import ModelError, UsageError
from idverify.face.dlib_dat import FaceResNet, read_face_resnet
from idverify.models import MODELS_DIR, model_path

SOURCE_MODEL = "dlib_face_recognition_resnet_model_v1"
MODEL_NAME = "dlib_face_recognition_resnet_model_v1_onnx"
MODEL_FILE = "dlib_face_recognition_resnet_model_v1.onnx"
OPSET = 17
IR_VERSION = 8
CHIP = 150  # the network's input side (input_rgb_image_sized<150>)
JITTER_SEED = 0  # jitters are drawn from a fixed seed: the same chip always gives the same embedding


# --------------------------------------------------------------------------- conversion (set-up time)

def to_onnx_bytes(net: FaceResNet) -> bytes:
    """The ONNX graph of ``net``: input ``chips`` uint8 (N, H, W, 3) RGB, output ``embeddings`` (N, 128).

    Deterministic: the same .dat gives byte-identical output (float32 arithmetic only, fixed names).
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes: list[Any] = []
    inits: list[Any] = []
    counter = [0]

    def name(prefix: str) -> str:
        counter[0] += 1
        return f"{prefix}{counter[0]}"

    def const(prefix: str, value: np.ndarray) -> str:
        tensor_name = name(prefix)
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value), tensor_name))
        return tensor_name

    def node(op: str, inputs: list[str], **attrs: Any) -> str:
        out = name(op.lower() + "_")
        nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    size = net.input_size
    x = node("Cast", ["chips"], to=TensorProto.FLOAT)
    x = node("Transpose", [x], perm=[0, 3, 1, 2])
    x = node("Sub", [x, const("mean", np.asarray(net.mean_rgb, np.float32).reshape(1, 3, 1, 1))])
    x = node("Mul", [x, const("scale", np.asarray(1.0 / 256.0, np.float32))])  # exact: a power of two
    shape = (3, size, size)  # (channels, rows, cols) of x
    tags: dict[int, tuple[str, tuple[int, int, int]]] = {}
    steps = net.steps
    i = 0
    while i < len(steps):
        step = steps[i]
        if step.kind == "con":
            assert step.filters is not None and step.bias is not None
            filters, bias = step.filters, step.bias
            if i + 1 < len(steps) and steps[i + 1].kind == "affine":  # fold the frozen batch norm
                gamma, beta = steps[i + 1].gamma, steps[i + 1].beta
                assert gamma is not None and beta is not None
                filters = (filters * gamma[:, None, None, None]).astype(np.float32)
                bias = (bias * gamma + beta).astype(np.float32)
                i += 1
            k, s, p = step.size, step.stride, step.padding
            x = node("Conv", [x, const("w", filters), const("b", bias)], kernel_shape=[k, k], strides=[s, s],
                     pads=[p, p, p, p])
            side = (shape[1] + 2 * p - k) // s + 1, (shape[2] + 2 * p - k) // s + 1
            shape = (step.out_channels, *side)
        elif step.kind == "affine":
            raise ModelError("model_invalid", "an affine_ layer not after a convolution")
        elif step.kind == "relu":
            x = node("Relu", [x])
        elif step.kind in ("max_pool", "avg_pool") and step.size:
            k, s, p = step.size, step.stride, step.padding
            op = "MaxPool" if step.kind == "max_pool" else "AveragePool"
            x = node(op, [x], kernel_shape=[k, k], strides=[s, s], pads=[p, p, p, p])
            shape = (shape[0], (shape[1] + 2 * p - k) // s + 1, (shape[2] + 2 * p - k) // s + 1)
        elif step.kind == "avg_pool":  # avg_pool_everything
            x = node("GlobalAveragePool", [x])
            shape = (shape[0], 1, 1)
        elif step.kind == "tag":
            tags[step.tag] = (x, shape)
        elif step.kind == "skip":
            x, shape = tags[step.tag]
        elif step.kind == "add_prev":
            other, other_shape = tags[step.tag]
            target = tuple(max(a, b) for a, b in zip(shape, other_shape, strict=True))
            operands = []
            for operand, operand_shape in ((x, shape), (other, other_shape)):
                if operand_shape != target:  # dlib's tt::add: missing elements count as zero
                    pads = [0, 0, 0, 0, 0, *(t - o for t, o in zip(target, operand_shape, strict=True))]
                    operand = node("Pad", [operand, const("pads", np.asarray(pads, np.int64))], mode="constant")
                operands.append(operand)
            x = node("Add", operands)
            shape = target  # type: ignore[assignment]
        elif step.kind == "fc":
            assert step.weights is not None
            x = node("Flatten", [x], axis=1)
            x = node("MatMul", [x, const("fc", step.weights.astype(np.float32))])
        else:
            raise ModelError("model_invalid", f"unsupported layer {step.kind}")
        i += 1
    nodes[-1].output[0] = "embeddings"
    graph = helper.make_graph(
        nodes, "dlib_face_recognition_resnet_model_v1",
        [helper.make_tensor_value_info("chips", TensorProto.UINT8, ["n", size, size, 3])],
        [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["n", 128])],
        initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="idverify",
                              producer_version="1", ir_version=IR_VERSION,
                              doc_string="dlib_face_recognition_resnet_model_v1.dat (Davis King, CC0) converted "
                                         "by idverify.face.fast_encoder")
    onnx.checker.check_model(model)
    return bytes(model.SerializeToString())


def build_model(target: Path | None = None) -> Path:
    """Convert the installed dlib model into ``models/`` (the BUILDERS entry; no download)."""
    source = model_path(SOURCE_MODEL)  # sha256-verified .dat from face_recognition_models
    data = to_onnx_bytes(read_face_resnet(source))
    target = target or (MODELS_DIR / MODEL_FILE)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".tmp-", delete=False) as handle:
        handle.write(data)
    os.chmod(handle.name, 0o644)
    os.replace(handle.name, target)  # atomic: never a half-written model
    return target


# --------------------------------------------------------------------------- jitter

def jitter_chips(chip: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` jittered copies of a square chip, as dlib's ``jitter_image`` makes them.

    Crop of the chip shrunk by 3 px, shifted by up to 2 %, zoomed by 0.97-1.0, rotated by up to
    3 degrees (bilinear, black outside), then mirrored with probability 1/2.
    """
    rows, cols = chip.shape[:2]
    if rows != cols or rows < 8:
        raise UsageError("usage_error", f"jitter needs a square chip, got {rows}x{cols}")
    out = np.empty((count, rows, cols, *chip.shape[2:]), dtype=chip.dtype)
    side = rows - 6  # shrink_rect(get_rect(img), 3)
    centre = rows // 2  # dlib's center() of [3, rows-4]
    for n in range(count):
        shift_x = round(rng.uniform(-0.02, 0.02) * side)
        shift_y = round(rng.uniform(-0.02, 0.02) * side)
        box = int(side / rng.uniform(0.97, 0.99999))
        angle = rng.uniform(-3.0, 3.0) * math.pi / 180.0
        left = centre + shift_x - box // 2
        top = centre + shift_y - box // 2
        # chip pixel (u, v) -> image: rotate the box about its centre, scale (box-1)/(cols-1)
        scale = (box - 1) / (cols - 1)
        cx, cy = left + (box - 1) / 2.0, top + (box - 1) / 2.0
        cos, sin = math.cos(angle) * scale, math.sin(angle) * scale
        half = (cols - 1) / 2.0
        matrix = np.array([[cos, -sin, cx - cos * half + sin * half],
                           [sin, cos, cy - sin * half - cos * half]], dtype=np.float64)
        crop = cv2.warpAffine(chip, matrix, (cols, rows), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        if rng.random() > 0.5:
            crop = crop[:, ::-1]
        out[n] = crop
    return out


# --------------------------------------------------------------------------- encoder (run time)

def _onnxruntime() -> Any:
    return importlib.import_module("onnxruntime")  # untyped package, imported on first use only


class _GraphEncoder:
    """Shared by the runtimes: chip checks, batching, jitter averaging."""

    name = "dlib-resnet-v1"
    path: Path

    def _run(self, chips: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def encode(self, chips: Sequence[np.ndarray], jitters: int = 0) -> np.ndarray:
        """(n, 128) float64; with ``jitters`` > 1, the mean over that many jittered copies (as dlib)."""
        if not len(chips):
            return np.zeros((0, 128))
        stack = np.stack([_as_chip(c) for c in chips])
        if jitters <= 1:  # dlib: num_jitters <= 1 means the chip as it is
            return self._run(stack).astype(np.float64)
        rng = np.random.default_rng(JITTER_SEED)
        copies = np.concatenate([jitter_chips(chip, jitters, rng) for chip in stack])
        return self._run(copies).astype(np.float64).reshape(len(stack), jitters, 128).mean(axis=1)


class OnnxChipEncoder(_GraphEncoder):
    """dlib's ResNet run by onnxruntime on aligned 150 x 150 RGB chips.

    ``threads`` sets onnxruntime's intra-op threads (``None``: its default, one per core).
    ``batch`` caps how many chips go through the network per call.
    """

    def __init__(self, path: Path | None = None, threads: int | None = None, batch: int = 32) -> None:
        ort = _onnxruntime()
        self.path = path or model_path(MODEL_NAME)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.inter_op_num_threads = 1
        if threads:
            options.intra_op_num_threads = threads
        options.log_severity_level = 3
        self._session = ort.InferenceSession(str(self.path), sess_options=options,
                                             providers=["CPUExecutionProvider"])
        self._batch = max(1, batch)
        self.name = f"dlib-resnet-v1 onnxruntime {ort.__version__}"

    def _run(self, chips: np.ndarray) -> np.ndarray:
        outs = [self._session.run(["embeddings"], {"chips": chips[i:i + self._batch]})[0]
                for i in range(0, len(chips), self._batch)]
        return np.concatenate(outs)


class OpenCvChipEncoder(_GraphEncoder):
    """The same graph run by OpenCV's DNN module (already a dependency): the fallback runtime.

    ~4x slower than onnxruntime here but ~5x faster than dlib-bin, same parity. Not thread-safe
    (the face engine serialises calls); its thread count is OpenCV's global ``cv2.setNumThreads``.
    """

    def __init__(self, path: Path | None = None, batch: int = 32) -> None:
        self.path = path or model_path(MODEL_NAME)
        try:
            self._net = cv2.dnn.readNetFromONNX(str(self.path))
        except cv2.error as exc:
            raise ModelError("model_invalid", f"OpenCV cannot load {self.path}: {exc}") from None
        self._batch = max(1, batch)
        self.name = f"dlib-resnet-v1 opencv-dnn {cv2.__version__}"

    def _run(self, chips: np.ndarray) -> np.ndarray:
        outs = []
        for i in range(0, len(chips), self._batch):
            self._net.setInput(np.ascontiguousarray(chips[i:i + self._batch]))
            outs.append(np.asarray(self._net.forward()).reshape(-1, 128))
        return np.concatenate(outs)


def _as_chip(chip: np.ndarray) -> np.ndarray:
    chip = np.asarray(chip)
    if chip.ndim == 2:
        chip = np.repeat(chip[:, :, None], 3, axis=2)
    if chip.dtype != np.uint8 or chip.shape != (CHIP, CHIP, 3):
        raise UsageError("usage_error", f"expected a {CHIP}x{CHIP} RGB uint8 chip, got {chip.dtype} {chip.shape}")
    return chip


def load_fast_encoder(threads: int | None = 1, runtime: str = "auto") -> _GraphEncoder | None:
    """The fast encoder, or ``None`` when the converted model is unavailable (the engine keeps dlib's).

    ``runtime``: "onnxruntime", "opencv", or "auto" (onnxruntime when importable, else OpenCV DNN).
    One intra-op thread by default: ~4 ms a face already, and on a shared 2-core host a second
    spinning thread made it slower, not faster (benchmarks/RESULTS.md, ``## face encoder``).
    A converted file that fails its sha256 check is reported with a warning (and not used).
    """
    if runtime not in ("auto", "onnxruntime", "opencv"):
        raise UsageError("usage_error", f"unknown runtime {runtime!r}")
    use_ort = runtime == "onnxruntime"
    if runtime == "auto":
        try:
            _onnxruntime()
            use_ort = True
        except ImportError:
            use_ort = False
    try:
        return OnnxChipEncoder(threads=threads) if use_ort else OpenCvChipEncoder()
    except ModelError as exc:
        if exc.reason != "model_missing":
            warnings.warn(f"fast face encoder disabled, using dlib's: {exc}", RuntimeWarning, stacklevel=2)
        return None
