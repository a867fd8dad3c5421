"""Flat, rectified renders of the synthetic cards (CNIe 2021, CNI 1995, carte Vitale).

A render is drawn from the geometry in :mod:`idverify.document.layout`, at
:data:`~idverify.document.layout.RECTIFIED_DPI` by default, with French
labels, the persona's values, a greyscale portrait, guilloche backgrounds, a
DataMatrix-like 2D-Doc area, the chip, a ghost portrait, optically variable
zones (see :mod:`idverify.synth.ovd`) and the MRZ in OCR-B. Cards have
rounded corners: :attr:`CardRender.alpha` is 0 outside them.

Overrides make the labelled defects: another portrait (substitution), other
printed values (fields disagreeing with the MRZ), other MRZ lines (altered).

>>> import numpy as np
>>> from idverify.synth.persona import make_persona
>>> p = make_persona(np.random.default_rng(1), sex="F")
>>> r = render_card(p, CardType.CNIE_2021, Side.VERSO)
>>> r.image.shape, r.mrz_lines[0][:5], len(r.mrz_lines)
((638, 1011, 3), 'IDFRA', 3)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from idverify.document.layout import CardLayout, CardType, Side, Zone, ZoneKind, get_layout
from idverify.ocr.mrz import compose_mrz
from idverify.synth.ovd import apply_ovd
from idverify.synth.persona import Persona, format_nir
from idverify.synth.portraits import load_portrait

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/opentype/ocr-b"))
OCRB = Path("/usr/share/fonts/opentype/ocr-b/OCRB.otf")
_SANS, _SANS_BOLD, _COND, _COND_BOLD, _MONO, _SERIF_BOLD = (
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansCondensed.ttf", "DejaVuSansCondensed-Bold.ttf",
    "DejaVuSansMono.ttf", "DejaVuSerif-Bold.ttf",
)
CORNER_RADIUS_MM = 3.18  # ISO/IEC 7810

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@functools.lru_cache(maxsize=256)
def font(name: str, size: int) -> Font:
    """A TrueType/OpenType font by file name (OCR-B or DejaVu), Pillow's default font if missing."""
    for d in FONT_DIRS:
        path = d / name
        if path.is_file():
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size)


@dataclasses.dataclass(frozen=True)
class CardRender:
    """One rendered card side: RGB pixels, rounded-corner alpha and what was drawn."""

    image: np.ndarray  # H x W x 3 uint8
    alpha: np.ndarray  # H x W uint8, 255 on the card
    layout: CardLayout
    printed: Mapping[str, str]  # field name -> printed text
    mrz_lines: tuple[str, ...]  # () when this side has no MRZ
    ovd_angle: float  # the viewing angle the optically variable zones were rendered for


def _seed_of(*parts: object) -> int:
    return zlib.crc32("|".join(map(str, parts)).encode())


def _date_fr(iso: str, sep: str = " ") -> str:
    d = dt.date.fromisoformat(iso)
    return f"{d.day:02d}{sep}{d.month:02d}{sep}{d.year:04d}"


DEPARTMENT_NAMES = {
    "01": "AIN", "03": "ALLIER", "04": "ALPES-DE-HAUTE-PROVENCE", "05": "HAUTES-ALPES", "06": "ALPES-MARITIMES",
    "07": "ARDÈCHE", "13": "BOUCHES-DU-RHÔNE", "15": "CANTAL", "26": "DRÔME", "38": "ISÈRE", "42": "LOIRE",
    "44": "LOIRE-ATLANTIQUE", "63": "PUY-DE-DÔME", "67": "BAS-RHIN", "69": "RHÔNE", "71": "SAÔNE-ET-LOIRE",
    "72": "SARTHE", "73": "SAVOIE", "74": "HAUTE-SAVOIE", "76": "SEINE-MARITIME", "83": "VAR", "84": "VAUCLUSE",
}


def _prefecture(department3: str) -> str:
    """The issuing authority printed on the old card's verso, e.g. ``PRÉFECTURE - RHÔNE (69)``."""
    code = department3[1:] if department3.startswith("0") else department3
    name = DEPARTMENT_NAMES.get(code)
    return f"PRÉFECTURE - {name} ({code})" if name else f"PRÉFECTURE ({code})"


def mrz_lines_for(p: Persona, card_type: CardType) -> tuple[str, ...]:
    """The persona's MRZ for ``card_type`` (composed by :func:`idverify.ocr.mrz.compose_mrz`)."""
    if card_type is CardType.CNIE_2021:
        return tuple(compose_mrz("TD1", document_number=p.cnie_number, surname=p.mrz_surname,
                                 given_names=p.mrz_given_names, birth_date=p.birth_date, sex=p.sex,
                                 expiry_date=p.cnie_expiry_date, nationality=p.nationality))
    if card_type is CardType.CNI_1995:
        return tuple(compose_mrz("FRA_CNI_1995", document_number=p.cni95_number, surname=p.mrz_surname,
                                 given_names=",".join(p.mrz_given_names.split()), birth_date=p.birth_date,
                                 sex=p.sex, department=p.cni95_department, office=p.cni95_office))
    return ()


def printed_fields(p: Persona, card_type: CardType, side: Side) -> dict[str, str]:
    """The text printed in each field zone of ``side`` for persona ``p``."""
    height = f"{p.height_cm // 100},{p.height_cm % 100:02d} m"
    if card_type is CardType.CNIE_2021 and side is Side.RECTO:
        return {
            "surname": p.surname, "document_number": p.cnie_number, "given_names": ", ".join(p.given_names),
            "sex": p.sex, "nationality": p.nationality, "birth_date": _date_fr(p.birth_date),
            "birth_place": f"{p.birth_place} ({p.birth_department})",
            "usage_name": f"ép. {p.usage_name}" if p.usage_name else "", "expiry_date": _date_fr(p.cnie_expiry_date),
            "card_access_number": p.card_access_number,
        }
    if card_type is CardType.CNIE_2021:
        return {"height": height, "issue_date": _date_fr(p.cnie_issue_date), "address": "\n".join(p.address)}
    if card_type is CardType.CNI_1995 and side is Side.RECTO:
        return {
            "document_number": p.cni95_number, "nationality": "Française", "surname": p.surname,
            "given_names": ", ".join(p.given_names), "sex": p.sex, "birth_date": _date_fr(p.birth_date, "."),
            "birth_place": f"{p.birth_place} ({p.birth_department})", "height": height,
        }
    if card_type is CardType.CNI_1995:
        return {"address": "\n".join(p.address), "expiry_date": _date_fr(p.cni95_printed_expiry, "."),
                "issue_date": _date_fr(p.cni95_issue_date, "."),
                "issuing_authority": _prefecture(p.cni95_department)}
    return {"given_names": p.given_names[0].upper(), "surname": p.surname, "nir": format_nir(p.nir),
            "issue_date": _date_fr(p.vitale_issue_date, "/")}


# --- backgrounds (cached per card side and size) --------------------------------------------


def _hex(c: str) -> np.ndarray:
    return np.array([int(c[i:i + 2], 16) for i in (1, 3, 5)], np.float32)


@functools.lru_cache(maxsize=16)
def _background(card_type: CardType, side: Side, size: tuple[int, int]) -> np.ndarray:
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    u, v = xx / w, yy / h
    palettes = {
        CardType.CNIE_2021: ("#d9ece6", "#f3dfe0", "#5a7fa6"),
        CardType.CNI_1995: ("#f1e3ea", "#dde6f0", "#9a6a8a"),
        CardType.CARTE_VITALE: ("#eef6e4", "#f8f6e6", "#3f9a4a"),
    }
    left, right, ink = (_hex(c) for c in palettes[card_type])
    t = np.clip(u * 0.8 + v * 0.2, 0, 1)[..., None]
    img = left * (1 - t) + right * t
    # guilloche: interfering sine families, thin bright/dark lines
    s = 1.0 if side is Side.RECTO else 1.3
    r = np.hypot(u - 0.72, (v - 0.55) * h / w)
    g1 = np.sin(2 * np.pi * (38 * s * r + 3.0 * np.sin(2 * np.pi * 2.5 * u)))
    g2 = np.sin(2 * np.pi * (22 * v + 2.2 * np.sin(2 * np.pi * (3 * u + 0.7 * v))))
    lines = (np.abs(g1) < 0.08).astype(np.float32) * 0.55 + (np.abs(g2) < 0.06).astype(np.float32) * 0.45
    lines = cv2.GaussianBlur(lines, (0, 0), 0.6)[..., None]
    img = img * (1 - 0.18 * lines) + ink * 0.18 * lines
    if card_type is CardType.CARTE_VITALE:  # green waves at the bottom-left, yellow light band
        wave = v - (0.55 + 0.12 * np.sin(2 * np.pi * (u * 1.2 + 0.1)))
        green = np.clip(wave * 6, 0, 1)[..., None] * np.clip((0.75 - u) * 3, 0, 1)[..., None]
        img = img * (1 - 0.35 * green) + _hex("#7cc36f") * 0.35 * green
        yellow = np.exp(-((v - 0.95 + 0.25 * u) ** 2) / 0.004)[..., None]
        img = img * (1 - 0.5 * yellow) + _hex("#f2d23c") * 0.5 * yellow
    out = np.clip(img, 0, 255).astype(np.uint8)
    out.setflags(write=False)
    return out


def _corner_alpha(size: tuple[int, int], radius_px: int) -> np.ndarray:
    w, h = size
    alpha = np.full((h, w), 255, np.uint8)
    r = max(1, radius_px)
    corner = np.zeros((r, r), np.uint8)
    cv2.circle(corner, (r - 1, r - 1), r - 1, 255, -1, lineType=cv2.LINE_AA)
    alpha[:r, :r] = corner
    alpha[:r, w - r:] = corner[:, ::-1]
    alpha[h - r:, :r] = corner[::-1, :]
    alpha[h - r:, w - r:] = corner[::-1, ::-1]
    return alpha


# --- drawing helpers ---------------------------------------------------------------------------


def _fit_font(draw: ImageDraw.ImageDraw, text: str, name: str, box_w: int, box_h: int, fill: float = 0.78) -> Font:
    size = max(6, int(box_h * fill))
    f = font(name, size)
    width = draw.textlength(text, font=f) if text else 0
    if width > box_w and width > 0:
        f = font(name, max(6, int(size * box_w / width)))
    return f


def _text(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], text: str, name: str,
          color: tuple[int, int, int], fill: float = 0.78, anchor: str = "lm") -> None:
    x0, y0, x1, y1 = box
    lines = text.split("\n") if text else []
    if not lines:
        return
    lh = (y1 - y0) / len(lines)
    longest = max(lines, key=lambda s: draw.textlength(s, font=font(name, 20)))
    f = _fit_font(draw, longest, name, x1 - x0, int(lh), fill)
    for i, line in enumerate(lines):
        y = y0 + lh * (i + 0.5)
        x = x0 if anchor[0] == "l" else (x0 + x1) / 2 if anchor[0] == "m" else x1
        draw.text((x, y), line, font=f, fill=color, anchor=anchor)


def _portrait_gray(rgb: np.ndarray, size: tuple[int, int], contrast: float = 1.0) -> np.ndarray:
    """Centre-crop ``rgb`` to the aspect of ``size`` (w, h), resize, greyscale (as laser-engraved)."""
    w, h = size
    ph, pw = rgb.shape[:2]
    target = w / h
    if pw / ph > target:
        cw = int(ph * target)
        rgb = rgb[:, (pw - cw) // 2:(pw - cw) // 2 + cw]
    else:
        ch = int(pw / target)
        rgb = rgb[(ph - ch) // 4:(ph - ch) // 4 + ch]
    g = cv2.cvtColor(cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA if pw > w else cv2.INTER_CUBIC),
                     cv2.COLOR_RGB2GRAY).astype(np.float32)
    g = (g - g.mean()) * contrast + g.mean()
    return np.clip(g, 0, 255)


def _paste_gray(img: np.ndarray, box: tuple[int, int, int, int], gray: np.ndarray, opacity: float,
                tint: tuple[float, float, float] = (0.96, 0.97, 1.0)) -> None:
    x0, y0, x1, y1 = box
    region = img[y0:y1, x0:x1].astype(np.float32)
    g = gray[..., None] * np.array(tint, np.float32)
    img[y0:y1, x0:x1] = np.clip(region * (1 - opacity) + g * opacity, 0, 255).astype(np.uint8)


def _datamatrix(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], seed: int, modules: int = 36) -> None:
    """A DataMatrix-like symbol: L finder, clock track, seeded data modules (not a decodable code)."""
    x0, y0, x1, y1 = box
    draw.rectangle(box, fill=(250, 250, 250))
    quiet = 2
    cell = min(x1 - x0, y1 - y0) / (modules + 2 * quiet)
    grid = np.random.default_rng(seed).random((modules, modules)) < 0.5
    grid[:, 0] = True
    grid[-1, :] = True
    grid[0, :] = np.arange(modules) % 2 == 0
    grid[:, -1] = np.arange(modules) % 2 == 1
    ox, oy = x0 + quiet * cell, y0 + quiet * cell
    for r, c in zip(*np.nonzero(grid), strict=True):
        draw.rectangle((ox + c * cell, oy + r * cell, ox + (c + 1) * cell - 1, oy + (r + 1) * cell - 1),
                       fill=(20, 20, 25))


def _chip(img: np.ndarray, box: tuple[int, int, int, int]) -> None:
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    shade = 0.85 + 0.15 * np.sin(xx / w * 3 + yy / h * 2)
    gold = np.stack([212 * shade, 175 * shade, 90 * shade], -1)
    mask = np.zeros((h, w), np.uint8)
    cv2.rectangle(mask, (0, 0), (w - 1, h - 1), 255, -1)
    lines = np.zeros((h, w), np.uint8)
    t = max(1, w // 60)
    cv2.rectangle(lines, (0, 0), (w - 1, h - 1), 255, t)
    for fx in (0.33, 0.67):
        cv2.line(lines, (int(w * fx), 0), (int(w * fx), h), 255, t)
    for fy in (0.3, 0.5, 0.7):
        cv2.line(lines, (0, int(h * fy)), (int(w * 0.33), int(h * fy)), 255, t)
        cv2.line(lines, (int(w * 0.67), int(h * fy)), (w, int(h * fy)), 255, t)
    cv2.ellipse(lines, (w // 2, h // 2), (int(w * 0.12), int(h * 0.18)), 0, 0, 360, 255, t)
    gold[lines > 0] *= 0.55
    region = img[y0:y1, x0:x1]
    region[mask > 0] = np.clip(gold[mask > 0], 0, 255).astype(np.uint8)


def _signature(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = box
    t = np.linspace(0, 1, 160)
    freq = rng.uniform([2.0, 1.5, 0.5], [3.5, 3.0, 1.5])
    phase = rng.uniform(0, 2 * np.pi, 3)
    xs = x0 + (x1 - x0) * (0.08 + 0.84 * t + 0.04 * np.sin(2 * np.pi * freq[0] * t + phase[0]))
    ys = (y0 + y1) / 2 + (y1 - y0) * (0.28 * np.sin(2 * np.pi * freq[1] * t + phase[1])
                                      * np.cos(2 * np.pi * freq[2] * t + phase[2]))
    width = max(2, (y1 - y0) // 40)
    draw.line(list(zip(xs.tolist(), ys.tolist(), strict=True)), fill=(25, 30, 70), width=width, joint="curve")


def _eu_flag(draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float, code: str) -> None:
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(0, 51, 153))
    for k in range(12):
        a = 2 * np.pi * k / 12
        sx, sy = cx + 0.68 * r * np.cos(a), cy + 0.68 * r * np.sin(a)
        s = 0.1 * r
        draw.regular_polygon((sx, sy, s), 5, fill=(255, 204, 0))
    draw.text((cx, cy), code, font=font(_SANS_BOLD, int(r * 0.7)), fill=(255, 255, 255), anchor="mm")


def _marianne_block(draw: ImageDraw.ImageDraw, x: float, y: float, h: float) -> None:
    """The 'bloc Marianne': a blue-white-red mark with RÉPUBLIQUE FRANÇAISE."""
    w = h * 0.35
    draw.rectangle((x, y, x + w, y + h), fill=(0, 35, 149))
    draw.rectangle((x + w, y, x + 2 * w, y + h), fill=(245, 245, 245))
    draw.rectangle((x + 2 * w, y, x + 3 * w, y + h), fill=(237, 41, 57))
    f = font(_SANS_BOLD, max(6, int(h * 0.36)))
    draw.text((x + 3 * w + h * 0.25, y + h * 0.27), "RÉPUBLIQUE", font=f, fill=(20, 20, 40), anchor="lm")
    draw.text((x + 3 * w + h * 0.25, y + h * 0.73), "FRANÇAISE", font=f, fill=(20, 20, 40), anchor="lm")


# --- the renderer ------------------------------------------------------------------------------


def render_card(persona: Persona, card_type: CardType | str, side: Side | str, *, width_px: int | None = None,
                portrait: np.ndarray | None = None, ghost_portrait: np.ndarray | None = None,
                printed_overrides: Mapping[str, str] | None = None, mrz_lines: Sequence[str] | None = None,
                ovd_angle: float = 0.0) -> CardRender:
    """Render one side of a card, flat and rectified.

    ``width_px`` defaults to the layout's width at 300 dpi. ``portrait`` (RGB)
    replaces the persona's photo on the recto, ``ghost_portrait`` the ghost
    image on the CNIe verso (both default to the persona's portrait).
    ``ovd_angle`` is the viewing angle in degrees the optically variable zones
    are rendered for (0 = seen straight on).
    """
    layout = get_layout(card_type, side)
    ctype, cside = layout.card_type, layout.side
    base_w, base_h = layout.size_px()
    w = width_px or base_w
    h = round(w * base_h / base_w)
    size = (w, h)
    img = np.array(_background(ctype, cside, size))
    face = load_portrait(persona.portrait)
    printed = printed_fields(persona, ctype, cside)
    printed.update(printed_overrides or {})
    mrz = tuple(mrz_lines) if mrz_lines is not None else (mrz_lines_for(persona, ctype) if layout.mrz_shape else ())
    seed = _seed_of(persona.nir, persona.surname, ctype.value)

    def px(name: str) -> tuple[int, int, int, int]:
        return layout.zone(name).pixel_box(size)

    # raster content first (portraits, chip), then text with PIL
    if layout.has("portrait"):
        x0, y0, x1, y1 = px("portrait")
        pic = portrait if portrait is not None else face
        _paste_gray(img, (x0, y0, x1, y1), _portrait_gray(pic, (x1 - x0, y1 - y0), 1.1), 0.93)
    if layout.has("ghost_portrait"):
        x0, y0, x1, y1 = px("ghost_portrait")
        pic = ghost_portrait if ghost_portrait is not None else face
        g = _portrait_gray(pic, (x1 - x0, y1 - y0), 0.8)
        _paste_gray(img, (x0, y0, x1, y1), 255 - (255 - g) * 0.45, 0.75, (0.93, 0.95, 1.0))
    if layout.has("chip"):
        _chip(img, px("chip"))

    pil = Image.fromarray(img)
    draw = ImageDraw.Draw(pil)
    ink = (28, 30, 38)
    label_ink = (40, 70, 130) if ctype is not CardType.CNI_1995 else (110, 60, 100)
    value_font = {CardType.CNIE_2021: _SANS, CardType.CNI_1995: _MONO, CardType.CARTE_VITALE: _SANS_BOLD}[ctype]
    _draw_header(draw, layout, size)
    for z in layout.zones:
        if z.kind is ZoneKind.FIELD:
            _draw_field(draw, z, size, printed.get(z.name, ""), value_font, ink, label_ink, ctype)
        elif z.kind is ZoneKind.BARCODE:
            _datamatrix(draw, z.pixel_box(size), seed)
        elif z.kind is ZoneKind.SIGNATURE:
            _signature(draw, z.pixel_box(size), seed + 1)
        elif z.kind is ZoneKind.MRZ and mrz:
            _draw_mrz(draw, z.pixel_box(size), mrz)
    img = np.asarray(pil).copy()
    img = apply_ovd(img, layout, ovd_angle)
    alpha = _corner_alpha(size, round(CORNER_RADIUS_MM / layout.size_mm[0] * w))
    return CardRender(img, alpha, layout, dict(printed), mrz, float(ovd_angle))


def _draw_mrz(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], lines: Sequence[str]) -> None:
    x0, y0, x1, y1 = box
    n = len(lines)
    chars = max(len(s) for s in lines)
    lh = (y1 - y0) / n
    f = font(OCRB.name, 40)
    per_char = draw.textlength("<" * chars, font=f) / chars
    size = int(40 * (x1 - x0) / (per_char * chars) * 0.995)
    f = font(OCRB.name, min(size, int(lh * 0.95)))
    for i, line in enumerate(lines):
        draw.text((x0, y0 + lh * (i + 0.5)), line, font=f, fill=(15, 15, 20), anchor="lm")


def _draw_field(draw: ImageDraw.ImageDraw, z: Zone, size: tuple[int, int], value: str, value_font: str,
                ink: tuple[int, int, int], label_ink: tuple[int, int, int], ctype: CardType) -> None:
    x0, y0, x1, y1 = z.pixel_box(size)
    if z.label_box is not None and z.label:
        lx0, ly0, lx1, ly1 = z.pixel_label_box(size) or (0, 0, 0, 0)
        f = _fit_font(draw, z.label, _COND, lx1 - lx0, ly1 - ly0, 0.62)
        draw.text((lx0, (ly0 + ly1) / 2), z.label, font=f, fill=label_ink, anchor="lm")
    elif z.label and z.name != "card_access_number":  # inline label before the value
        f = font(_COND, max(6, int((y1 - y0) * 0.6)))
        draw.text((x0 - 8, (y0 + y1) / 2), z.label, font=f, fill=label_ink, anchor="rm")
    if z.name == "card_access_number":
        draw.rectangle((x0, y0, x1, y1), outline=(70, 80, 110), width=max(1, (y1 - y0) // 25))
        _text(draw, (x0, y0, x1, y1), value, _MONO, ink, 0.7, "mm")
        return
    if z.name == "nir":
        _text(draw, (x0, y0, x1, y1), value, _MONO if ctype is not CardType.CARTE_VITALE else _SANS_BOLD, ink, 0.8)
        return
    fill = 0.82 if "\n" not in value else 0.75
    _text(draw, (x0, y0, x1, y1), value, value_font, ink, fill)


def _draw_header(draw: ImageDraw.ImageDraw, layout: CardLayout, size: tuple[int, int]) -> None:
    w, h = size
    ctype, side = layout.card_type, layout.side
    blue = (20, 45, 110)
    if ctype is CardType.CNIE_2021 and side is Side.RECTO:
        _marianne_block(draw, 0.035 * w, 0.03 * h, 0.1 * h)
        draw.text((0.585 * w, 0.065 * h), "CARTE NATIONALE D'IDENTITÉ", font=font(_SANS_BOLD, int(0.047 * h)),
                  fill=blue, anchor="mm")
        draw.text((0.585 * w, 0.125 * h), "IDENTITY CARD", font=font(_SANS, int(0.036 * h)), fill=blue, anchor="mm")
        _eu_flag(draw, 0.925 * w, 0.085 * h, 0.07 * h, "FR")
    elif ctype is CardType.CNIE_2021 and layout.has("banner"):
        x0, y0, x1, y1 = layout.zone("banner").pixel_box(size)
        cy, t = (y0 + y1) / 2, max(2, (y1 - y0) // 4)
        f = font(_SANS_BOLD, max(6, int((y1 - y0) * 0.75)))
        tx0 = x0 + 0.14 * (x1 - x0)
        tx1 = tx0 + draw.textlength("RÉPUBLIQUE FRANÇAISE", font=f)
        draw.rectangle((x0, cy - t, tx0 - 0.01 * w, cy + t), fill=(40, 50, 140))
        draw.text((tx0, cy), "RÉPUBLIQUE FRANÇAISE", font=f, fill=(40, 50, 140), anchor="lm")
        draw.rectangle((max(tx1 + 0.015 * w, 0.528 * w), cy - t, x1, cy + t), fill=(215, 45, 55))  # as on the specimen
    elif ctype is CardType.CNI_1995 and side is Side.RECTO:
        draw.text((0.5 * w, 0.05 * h), "RÉPUBLIQUE FRANÇAISE", font=font(_SERIF_BOLD, int(0.05 * h)), fill=blue,
                  anchor="mm")
    elif ctype is CardType.CARTE_VITALE:
        draw.text((0.05 * w, 0.12 * h), "carte", font=font(_SANS, int(0.075 * h)), fill=(40, 120, 60), anchor="lm")
        draw.text((0.05 * w + int(0.075 * h) * 2.6, 0.12 * h), "Vitale", font=font(_SERIF_BOLD, int(0.11 * h)),
                  fill=(30, 110, 50), anchor="lm")
        draw.text((0.05 * w, 0.22 * h), "L'Assurance Maladie", font=font(_COND_BOLD, int(0.04 * h)),
                  fill=(30, 60, 140), anchor="lm")
