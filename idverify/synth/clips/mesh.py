"""Piecewise-affine mesh warping (a triangulation moved point by point).

Used to animate a still face: each triangle of the source mesh is mapped
affinely onto the same triangle of the moved mesh, so points that move more
(the nose) and points that move less (the face contour) give real parallax
instead of one global homography.

>>> import numpy as np
>>> src = np.array([[0, 0], [99, 0], [99, 99], [0, 99], [50, 50]], float)
>>> tris = triangulate(src, (100, 100))
>>> len(tris)
4
>>> img = np.zeros((100, 100, 3), np.uint8); img[45:55, 45:55] = 255
>>> dst = src.copy(); dst[4] = (60, 50)
>>> out = warp_mesh(img, src, dst, tris, (0, 0, 100, 100))
>>> int(out[50, 60, 0]), int(out[50, 46, 0])  # the square's centre moved 10 px to the right
(255, 0)
"""

from __future__ import annotations

import cv2
import numpy as np


def triangulate(points: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Delaunay triangles of ``points`` (N x 2, normally inside a ``(width, height)`` box) as (T, 3) vertex indexes."""
    # the box must hold every point (a face placed partly outside the frame has landmarks outside it)
    left, top = (min(-1, int(np.floor(v)) - 1) for v in points.min(axis=0))
    right, bottom = (max(side + 1, int(np.ceil(v)) + 1) for side, v in zip(size, points.max(axis=0), strict=True))
    subdiv = cv2.Subdiv2D((left, top, right - left, bottom - top))
    for x, y in points:
        subdiv.insert((float(x), float(y)))
    triangles = []
    for row in np.asarray(subdiv.getTriangleList(), dtype=np.float64):
        corners = row.reshape(3, 2)
        idx = [int(np.argmin(np.sum((points - c) ** 2, axis=1))) for c in corners]
        if len(set(idx)) == 3 and all(np.min(np.sum((points - c) ** 2, axis=1)) < 1e-6 for c in corners):
            triangles.append(sorted(idx))
    unique = sorted({tuple(t) for t in triangles})
    return np.asarray(unique, dtype=np.int32).reshape(-1, 3)


def _affines(frm: np.ndarray, to: np.ndarray) -> np.ndarray:
    """(T, 2, 3) affine maps taking each triangle of ``frm`` (T, 3, 2) onto ``to`` (T, 3, 2)."""
    count = frm.shape[0]
    ones = np.ones((count, 3, 1))
    a = np.concatenate([frm, ones], axis=2)  # (T, 3, 3): rows [x y 1]
    det = np.linalg.det(a)
    bad = np.abs(det) < 1e-9
    a[bad] = np.eye(3)  # degenerate triangles: mapped by identity, they cover no pixel anyway
    sol = np.linalg.solve(a, to)  # (T, 3, 2): [x y 1] @ sol = target
    return np.transpose(sol, (0, 2, 1))


def warp_mesh(image: np.ndarray, src: np.ndarray, dst: np.ndarray, triangles: np.ndarray,
              roi: tuple[int, int, int, int], out: np.ndarray | None = None) -> np.ndarray:
    """Warp ``image`` so that mesh ``src`` lands on ``dst``, inside ``roi`` = (x0, y0, x1, y1).

    The triangles must cover the ROI (put fixed anchor points on its
    border); pixels outside it are copied unchanged. Returns ``out`` (a copy
    of ``image`` unless given).
    """
    x0, y0, x1, y1 = roi
    if out is None:
        out = image.copy()
    w, h = x1 - x0, y1 - y0
    index = np.zeros((h, w), np.uint16)
    shift = 4
    for t, tri in enumerate(triangles):
        pts = np.round((dst[tri] - (x0, y0)) * (1 << shift)).astype(np.int32)
        cv2.fillConvexPoly(index, pts, t + 1, lineType=cv2.LINE_8, shift=shift)
    maps = _affines(dst[triangles], src[triangles])  # dst -> src
    ident = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    maps = np.concatenate([ident[None], maps], axis=0).astype(np.float32)
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    m = maps[index]
    map_x = m[..., 0, 0] * xs + m[..., 0, 1] * ys + m[..., 0, 2]
    map_y = m[..., 1, 0] * xs + m[..., 1, 1] * ys + m[..., 1, 2]
    out[y0:y1, x0:x1] = cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    return out
