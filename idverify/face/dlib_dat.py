"""Read dlib's face-recognition ResNet (``dlib_face_recognition_resnet_model_v1.dat``).

The file is dlib's own ``serialize`` of the network type ``anet_type`` of
dlib's ``dnn_face_recognition_ex.cpp``::

    loss_metric<fc_no_bias<128, avg_pool_everything<alevel0<alevel1<alevel2<alevel3<alevel4<
        max_pool<3,3,2,2, relu<affine<con<32,7,7,2,2, input_rgb_image_sized<150>>>>>>>>>>>>>

Format (dlib/serialize.h, dlib/dnn/core.h, layers.h, tensor.h, input.h):

* integers: one byte ``size | (0x80 if negative)`` then ``size`` little-endian bytes;
* floating point: two integers, mantissa and base-2 exponent;
* strings: an integer length then the bytes; bools: the character ``'0'`` or ``'1'``;
* tensors: version 2, four dimensions, then raw little-endian IEEE float32;
* ``alias_tensor`` (where a layer's weights sit in its ``params``): version 1 and four dimensions;
* ``add_loss_layer``: version 1, the loss details, the subnetwork; ``add_layer``: version 2, the
  subnetwork, then the layer details, three flags and three (empty) tensors; the innermost
  ``add_layer`` (on the input layer): version 3, the input layer, details, flags, tensors and the
  sample expansion factor; ``add_tag_layer`` / ``add_skip_layer``: version 1 then the subnetwork.

So the file starts with the chain of versions (outermost first) and then lists the layers in
execution order. Tags and skips carry no data, so :func:`read_face_resnet` checks the file against
the known topology (the version chain, every layer's kind, sizes, strides and paddings) and fails
on anything else rather than guessing.

>>> [step.kind for step in anet_program()[:6]]
['con', 'affine', 'relu', 'max_pool', 'tag', 'con']
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from idverify.errors import ModelError


@dataclasses.dataclass(frozen=True, slots=True)
class Step:
    """One node of the network in execution order.

    ``kind`` is one of con, affine, relu, max_pool, avg_pool, tag, skip, add_prev, fc.
    For con: ``filters`` (out, in, kh, kw), ``bias`` (out,), ``stride``, ``padding``.
    For affine: ``gamma`` and ``beta`` (channels,). For pools: ``size`` (0 = whole map),
    ``stride``, ``padding``. For tag / skip / add_prev: ``tag``. For fc: ``weights`` (in, out).
    """

    kind: str
    out_channels: int = 0
    size: int = 0
    stride: int = 1
    padding: int = 0
    tag: int = 0
    filters: np.ndarray | None = None
    bias: np.ndarray | None = None
    gamma: np.ndarray | None = None
    beta: np.ndarray | None = None
    weights: np.ndarray | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class FaceResNet:
    """The network read from the file: input normalisation and steps in execution order."""

    input_size: int
    mean_rgb: tuple[float, float, float]
    steps: tuple[Step, ...]


def _block(n: int, stride: int) -> list[Step]:
    # block<N,BN,stride> = BN<con<N,3,3,1,1,relu<BN<con<N,3,3,stride,stride,SUBNET>>>>>
    pad = 0 if stride != 1 else 1  # dlib's con_ default padding: stride != 1 ? 0 : nr/2
    return [Step("con", n, 3, stride, pad), Step("affine"), Step("relu"),
            Step("con", n, 3, 1, 1), Step("affine")]


def _ares(n: int) -> list[Step]:
    # ares<N> = relu<add_prev1<block<N,affine,1,tag1<SUBNET>>>>
    return [Step("tag", tag=1), *_block(n, 1), Step("add_prev", tag=1), Step("relu")]


def _ares_down(n: int) -> list[Step]:
    # ares_down<N> = relu<add_prev2<avg_pool<2,2,2,2,skip1<tag2<block<N,affine,2,tag1<SUBNET>>>>>>>
    return [Step("tag", tag=1), *_block(n, 2), Step("tag", tag=2), Step("skip", tag=1),
            Step("avg_pool", size=2, stride=2, padding=0), Step("add_prev", tag=2), Step("relu")]


def anet_program() -> list[Step]:
    """The expected topology of ``anet_type`` in execution order (no weights)."""
    steps = [Step("con", 32, 7, 2, 0), Step("affine"), Step("relu"), Step("max_pool", size=3, stride=2, padding=0)]
    steps += _ares(32) * 3  # alevel4
    steps += _ares_down(64) + _ares(64) * 3  # alevel3
    steps += _ares_down(128) + _ares(128) * 2  # alevel2
    steps += _ares_down(256) + _ares(256) * 2  # alevel1
    steps += _ares_down(256)  # alevel0
    steps += [Step("avg_pool", size=0, stride=1, padding=0), Step("fc", 128)]
    return steps


class _Stream:
    """A cursor over dlib's serialization (see the module docstring)."""

    def __init__(self, data: bytes, name: str) -> None:
        self.data = data
        self.pos = 0
        self.name = name

    def fail(self, what: str) -> ModelError:
        return ModelError("model_invalid", f"{self.name}: not dlib's face ResNet at byte {self.pos}: {what}")

    def integer(self) -> int:
        if self.pos >= len(self.data):
            raise self.fail("unexpected end of file")
        head = self.data[self.pos]
        size = head & 0x0F
        if size > 8 or self.pos + 1 + size > len(self.data):
            raise self.fail(f"bad integer header {head:#x}")
        value = int.from_bytes(self.data[self.pos + 1:self.pos + 1 + size], "little")
        self.pos += 1 + size
        return -value if head & 0x80 else value

    def real(self) -> float:
        mantissa = self.integer()
        exponent = self.integer()
        return float(np.ldexp(float(mantissa), exponent))

    def text(self) -> str:
        size = self.integer()
        if size < 0 or size > 256 or self.pos + size > len(self.data):
            raise self.fail(f"bad string length {size}")
        value = self.data[self.pos:self.pos + size]
        self.pos += size
        try:
            return value.decode("ascii")
        except UnicodeDecodeError:
            raise self.fail("non-ASCII layer name") from None

    def flag(self) -> bool:
        char = self.data[self.pos:self.pos + 1]
        if char not in (b"0", b"1"):
            raise self.fail(f"bad bool {char!r}")
        self.pos += 1
        return char == b"1"

    def expect(self, value: int, what: str) -> None:
        got = self.integer()
        if got != value:
            raise self.fail(f"{what}: expected {value}, got {got}")

    def tensor(self) -> np.ndarray:
        self.expect(2, "tensor version")
        dims = [self.integer() for _ in range(4)]
        count = int(np.prod(dims))
        if min(dims) < 0 or self.pos + 4 * count > len(self.data):
            raise self.fail(f"bad tensor dims {dims}")
        values = np.frombuffer(self.data, dtype="<f4", count=count, offset=self.pos).astype(np.float32)
        self.pos += 4 * count
        return values.reshape(dims)

    def alias(self) -> tuple[int, ...]:
        self.expect(1, "alias_tensor version")
        return tuple(self.integer() for _ in range(4))

    def layer_tail(self, innermost: bool) -> None:
        for _ in range(3):  # this_layer_setup_called, gradient_input_is_stale, output/gradient disabled
            self.flag()
        for _ in range(3):  # x_grad, cached_output, params_grad / grad_final: empty in a saved net
            if self.tensor().size:
                raise self.fail("unexpected non-empty training tensor")
        if innermost:
            self.expect(1, "sample expansion factor")


def _read_con(s: _Stream, want: Step, name: str) -> Step:
    if name not in ("con_4", "con_5"):
        raise s.fail(f"expected con_4, got {name!r}")
    params = s.tensor().reshape(-1)
    n, nr, nc, sy, sx, py, px = (s.integer() for _ in range(7))
    fdims = s.alias()
    bdims = s.alias()
    for _ in range(4):  # learning-rate and weight-decay multipliers
        s.real()
    if name == "con_5" and not s.flag():
        raise s.fail("con_ without bias is not expected here")
    if (n, nr, nc, sy, sx, py, px) != (want.out_channels, want.size, want.size, want.stride, want.stride,
                                       want.padding, want.padding):
        raise s.fail(f"con_ {(n, nr, nc, sy, sx, py, px)} where the model has "
                     f"{(want.out_channels, want.size, want.stride, want.padding)}")
    fsize = int(np.prod(fdims))
    if fdims[0] != n or bdims != (1, n, 1, 1) or params.size != fsize + n:
        raise s.fail(f"con_ parameter sizes {fdims} {bdims} {params.size}")
    return dataclasses.replace(want, filters=params[:fsize].reshape(fdims), bias=params[fsize:])


def _read_affine(s: _Stream, name: str) -> Step:
    if name != "affine_":
        raise s.fail(f"expected affine_, got {name!r}")
    params = s.tensor().reshape(-1)
    gdims = s.alias()
    bdims = s.alias()
    mode = s.integer()
    k = gdims[1]
    if mode != 0 or gdims != (1, k, 1, 1) or bdims != gdims or params.size != 2 * k:  # 0: CONV_MODE
        raise s.fail(f"affine_ mode {mode}, sizes {gdims} {bdims} {params.size}")
    return Step("affine", k, gamma=params[:k], beta=params[k:])


def _read_pool(s: _Stream, want: Step, name: str) -> Step:
    expected = "max_pool_2" if want.kind == "max_pool" else "avg_pool_2"
    if name != expected:
        raise s.fail(f"expected {expected}, got {name!r}")
    nr, nc, sy, sx, py, px = (s.integer() for _ in range(6))
    if (nr, nc, sy, sx, py, px) != (want.size, want.size, want.stride, want.stride, want.padding, want.padding):
        raise s.fail(f"{name} {(nr, nc, sy, sx, py, px)}")
    return want


def _read_fc(s: _Stream, want: Step, name: str) -> Step:
    if name != "fc_2":
        raise s.fail(f"expected fc_2, got {name!r}")
    outputs = s.integer()
    inputs = s.integer()
    params = s.tensor().reshape(-1)
    wdims = s.alias()
    s.alias()  # biases: empty without bias
    bias_mode = s.integer()
    for _ in range(4):
        s.real()
    if outputs != want.out_channels or bias_mode != 1 or wdims[:2] != (inputs, outputs) \
            or params.size != inputs * outputs:  # 1: FC_NO_BIAS
        raise s.fail(f"fc_ {outputs}x{inputs} bias_mode {bias_mode} {wdims}")
    return dataclasses.replace(want, weights=params.reshape(inputs, outputs))


def read_face_resnet(path: str | Path) -> FaceResNet:
    """Parse the .dat file; raise :class:`ModelError` unless it is exactly ``anet_type``."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError("model_missing", f"cannot read {path}: {exc}") from None
    s = _Stream(data, path.name)
    s.expect(1, "add_loss_layer version")
    if s.text() != "loss_metric_2":
        raise s.fail("the loss is not loss_metric_2")
    s.real()  # margin
    s.real()  # distance threshold
    program = anet_program()
    # The version chain, outermost first: 2 per add_layer, 1 per tag/skip, 3 for the innermost layer.
    chain = [1 if step.kind in ("tag", "skip") else 2 for step in reversed(program[1:])] + [3]
    for i, version in enumerate(chain):
        s.expect(version, f"layer chain entry {i}")
    if s.text() != "input_rgb_image_sized":
        raise s.fail("the input layer is not input_rgb_image_sized")
    mean = (s.real(), s.real(), s.real())
    rows, cols = s.integer(), s.integer()
    if rows != cols:
        raise s.fail(f"input size {rows}x{cols}")
    steps: list[Step] = []
    for index, want in enumerate(program):
        if want.kind in ("tag", "skip"):
            steps.append(want)
            continue
        name = s.text()
        if want.kind == "con":
            step = _read_con(s, want, name)
        elif want.kind == "affine":
            step = _read_affine(s, name)
        elif want.kind in ("max_pool", "avg_pool"):
            step = _read_pool(s, want, name)
        elif want.kind == "fc":
            step = _read_fc(s, want, name)
        else:
            expected = {"relu": "relu_", "add_prev": "add_prev_"}[want.kind]
            if name != expected:
                raise s.fail(f"expected {expected}, got {name!r}")
            step = want
        s.layer_tail(innermost=index == 0)
        steps.append(step)
    if s.pos != len(data):
        raise s.fail(f"{len(data) - s.pos} trailing bytes")
    return FaceResNet(input_size=rows, mean_rgb=mean, steps=tuple(steps))
