"""Card geometry as data: where each zone sits on each side of each card type.

One :class:`CardLayout` per ``(CardType, Side)``: the physical size of the card
and its named :class:`Zone` s, each a box in *card fractions*
``(x0, y0, x1, y1)`` (0,0 = top-left corner of the card, 1,1 = bottom-right,
the card upright and seen from the front). The layouts approximate the real
documents (DESIGN §3); the synthetic generator (:mod:`idverify.synth`) draws
from them, and the document and OCR checks read zones from them (template
regions, printed-field OCR boxes, MRZ band, optically variable zones).

A rectified card is handled at a fixed resolution, :data:`RECTIFIED_DPI`
(300 dpi): ID-1 cards are :data:`ID1_SIZE_PX` = 1011 x 638 px. Use
:meth:`CardLayout.size_px` and :meth:`Zone.pixel_box` to go from fractions to
pixels.

Field zones (``kind == ZoneKind.FIELD``) box the printed *value*; the printed
label (French / English, as on the card) is in ``label`` and its box, when
the label sits on its own line above the value, in ``label_box``.

>>> lay = get_layout(CardType.CNIE_2021, Side.VERSO)
>>> lay.size_px()
(1011, 638)
>>> lay.mrz_format, lay.mrz_shape
('TD1', (3, 30))
>>> lay.zone("mrz").pixel_box(lay.size_px())
(56, 431, 955, 577)
>>> [z.name for z in lay.zones_of(ZoneKind.OVD)]
['ovd_pictogram']
>>> get_layout("cni_1995", "recto").mrz_shape
(2, 36)
>>> sorted(z.name for z in get_layout(CardType.CARTE_VITALE, Side.RECTO).fields())
['given_names', 'issue_date', 'nir', 'surname']
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from types import MappingProxyType

from idverify.errors import UsageError

RECTIFIED_DPI = 300
"""Resolution of a rectified card (pixels per inch of card)."""

ID1_SIZE_MM = (85.60, 53.98)
"""ISO/IEC 7810 ID-1 (bank card, CNIe, carte Vitale): width, height in mm."""

CNI_1995_SIZE_MM = (105.0, 74.0)
"""The laminated French ID card of 1995-2021 is larger than ID-1: 105 x 74 mm."""


def mm_to_px(mm: float, dpi: int = RECTIFIED_DPI) -> int:
    """Millimetres to whole pixels at ``dpi``.

    >>> mm_to_px(85.60), mm_to_px(53.98)
    (1011, 638)
    """
    return round(mm / 25.4 * dpi)


ID1_SIZE_PX = (mm_to_px(ID1_SIZE_MM[0]), mm_to_px(ID1_SIZE_MM[1]))
"""A rectified ID-1 card in pixels (width, height) at :data:`RECTIFIED_DPI`."""


class CardType(enum.StrEnum):
    """The documents idverify knows."""

    CNIE_2021 = "cnie_2021"  # carte nationale d'identité électronique, since 2021 (ID-1, TD1 MRZ)
    CNI_1995 = "cni_1995"  # the laminated card of 1995-2021 (105 x 74 mm, 2 x 36 MRZ on the recto)
    CARTE_VITALE = "carte_vitale"  # French health-insurance card (ID-1, NIR printed)


class Side(enum.StrEnum):
    RECTO = "recto"
    VERSO = "verso"


class ZoneKind(enum.StrEnum):
    """What a zone holds (and so how a check should look at it)."""

    HEADER = "header"  # printed title / logos: constant for the card type (template matching)
    FIELD = "field"  # a printed personalised value (OCR); ``label`` is its printed label
    PORTRAIT = "portrait"  # the holder's photo
    GHOST_PORTRAIT = "ghost_portrait"  # small faded copy of the portrait
    SIGNATURE = "signature"
    MRZ = "mrz"  # machine-readable zone (OCR-B)
    CHIP = "chip"  # contact plate of the chip
    BARCODE = "barcode"  # 2D-Doc DataMatrix (CEV) area
    OVD = "ovd"  # optically variable device: hologram / colour-shifting ink; changes with the angle


Box = tuple[float, float, float, float]


@dataclasses.dataclass(frozen=True, slots=True)
class Zone:
    """A named box on a card side, in card fractions ``(x0, y0, x1, y1)``."""

    name: str
    kind: ZoneKind
    box: Box
    label: str | None = None
    label_box: Box | None = None

    def __post_init__(self) -> None:
        for b in (self.box, self.label_box):
            if b is None:
                continue
            x0, y0, x1, y1 = b
            if not (0.0 <= x0 < x1 <= 1.0 and 0.0 <= y0 < y1 <= 1.0):
                raise UsageError("usage_error", f"zone {self.name!r}: bad box {b}")

    def pixel_box(self, size: tuple[int, int]) -> tuple[int, int, int, int]:
        """The box in pixels of an image of ``size`` = (width, height) showing the rectified card."""
        return _to_px(self.box, size)

    def pixel_label_box(self, size: tuple[int, int]) -> tuple[int, int, int, int] | None:
        return None if self.label_box is None else _to_px(self.label_box, size)

    @property
    def center(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.box
        return (x0 + x1) / 2, (y0 + y1) / 2


def _to_px(box: Box, size: tuple[int, int]) -> tuple[int, int, int, int]:
    w, h = size
    x0, y0, x1, y1 = box
    return round(x0 * w), round(y0 * h), round(x1 * w), round(y1 * h)


@dataclasses.dataclass(frozen=True, slots=True)
class CardLayout:
    """The geometry of one side of one card type."""

    card_type: CardType
    side: Side
    size_mm: tuple[float, float]
    zones: tuple[Zone, ...]
    mrz_format: str | None = None  # "TD1" | "FRA_CNI_1995" | None (as idverify.read_mrz reports it)
    mrz_shape: tuple[int, int] | None = None  # (lines, characters per line)

    def __post_init__(self) -> None:
        names = [z.name for z in self.zones]
        if len(set(names)) != len(names):
            raise UsageError("usage_error", f"{self.card_type.value}/{self.side.value}: duplicate zone names")

    @property
    def aspect(self) -> float:
        """Width / height."""
        return self.size_mm[0] / self.size_mm[1]

    def size_px(self, dpi: int = RECTIFIED_DPI) -> tuple[int, int]:
        """(width, height) of the rectified card at ``dpi``."""
        return mm_to_px(self.size_mm[0], dpi), mm_to_px(self.size_mm[1], dpi)

    def zone(self, name: str) -> Zone:
        """The zone called ``name`` (``KeyError`` if this side has none)."""
        for z in self.zones:
            if z.name == name:
                return z
        raise KeyError(f"{self.card_type.value}/{self.side.value} has no zone {name!r}")

    def has(self, name: str) -> bool:
        return any(z.name == name for z in self.zones)

    def zones_of(self, kind: ZoneKind) -> tuple[Zone, ...]:
        return tuple(z for z in self.zones if z.kind is kind)

    def fields(self) -> tuple[Zone, ...]:
        """The printed personalised fields (OCR zones)."""
        return self.zones_of(ZoneKind.FIELD)


# --- helpers to write the tables below -------------------------------------------------------

_LABEL_SHARE = 0.42  # a "label over value" row: the label takes the top 42 %, the value the rest


def _field(name: str, label: str, box: Box) -> Zone:
    """A field whose label is on its own line above the value; ``box`` covers both."""
    x0, y0, x1, y1 = box
    split = y0 + (y1 - y0) * _LABEL_SHARE
    return Zone(name, ZoneKind.FIELD, (x0, split, x1, y1), label=label, label_box=(x0, y0, x1, split))


def _inline(name: str, label: str | None, box: Box) -> Zone:
    """A field whose label is printed before the value on the same line (old card); ``box`` = the value."""
    return Zone(name, ZoneKind.FIELD, box, label=label)


# --- CNIe 2021 -------------------------------------------------------------------------------

_CNIE_RECTO = CardLayout(
    CardType.CNIE_2021,
    Side.RECTO,
    ID1_SIZE_MM,
    (
        Zone("header", ZoneKind.HEADER, (0.0, 0.0, 1.0, 0.165)),
        Zone("portrait", ZoneKind.PORTRAIT, (0.035, 0.215, 0.325, 0.815)),
        Zone("ovd_portrait", ZoneKind.OVD, (0.02, 0.19, 0.34, 0.84)),  # holographic overlay on the photo
        _field("surname", "NOM / Surname", (0.355, 0.185, 0.70, 0.29)),
        _field("document_number", "N° DU DOCUMENT / Document No", (0.705, 0.185, 0.975, 0.29)),
        _field("given_names", "Prénoms / Given names", (0.355, 0.295, 0.975, 0.40)),
        _field("sex", "SEXE / Sex", (0.355, 0.405, 0.47, 0.51)),
        _field("nationality", "NATIONALITÉ / Nationality", (0.475, 0.405, 0.665, 0.51)),
        _field("birth_date", "DATE DE NAISS. / Date of birth", (0.67, 0.405, 0.975, 0.51)),
        _field("birth_place", "LIEU DE NAISSANCE / Place of birth", (0.355, 0.515, 0.975, 0.62)),
        _field("usage_name", "NOM D'USAGE / Alternate name", (0.355, 0.625, 0.975, 0.73)),
        _field("expiry_date", "DATE D'EXPIR. / Expiry date", (0.355, 0.735, 0.62, 0.84)),
        Zone("signature", ZoneKind.SIGNATURE, (0.63, 0.735, 0.83, 0.93)),
        Zone("card_access_number", ZoneKind.FIELD, (0.845, 0.865, 0.975, 0.945), label="CAN"),
    ),
)

_CNIE_VERSO = CardLayout(  # measured on the 4584 x 2903 specimen render (parse_french_id_card_n0ct0s/test-new-back.png)
    CardType.CNIE_2021,
    Side.VERSO,
    ID1_SIZE_MM,
    (
        Zone("barcode", ZoneKind.BARCODE, (0.10, 0.055, 0.25, 0.29)),  # 2D-Doc top-left, above the chip
        Zone("chip", ZoneKind.CHIP, (0.10, 0.305, 0.25, 0.52)),
        _field("height", "TAILLE / Height", (0.28, 0.042, 0.415, 0.139)),
        _field("issue_date", "DATE DE DÉLIVRANCE / Date of issue", (0.42, 0.042, 0.74, 0.139)),
        Zone("address", ZoneKind.FIELD, (0.28, 0.20, 0.74, 0.345), label="ADRESSE / Address",  # up to 4 lines
             label_box=(0.28, 0.145, 0.74, 0.18)),
        Zone("ghost_portrait", ZoneKind.GHOST_PORTRAIT, (0.785, 0.055, 0.935, 0.345)),  # top-right
        Zone("ovd_pictogram", ZoneKind.OVD, (0.765, 0.405, 0.87, 0.51)),  # colour-shifting pictogram
        Zone("banner", ZoneKind.HEADER, (0.055, 0.555, 0.935, 0.595)),  # blue rule, RÉPUBLIQUE FRANÇAISE, red rule
        Zone("mrz", ZoneKind.MRZ, (0.055, 0.675, 0.945, 0.905)),
    ),
    mrz_format="TD1",
    mrz_shape=(3, 30),
)

# --- old French ID card, 1995-2021 (105 x 74 mm, MRZ on the recto) ---------------------------

_CNI95_RECTO = CardLayout(
    CardType.CNI_1995,
    Side.RECTO,
    CNI_1995_SIZE_MM,
    (
        Zone("header", ZoneKind.HEADER, (0.0, 0.0, 1.0, 0.095)),
        _inline("document_number", "CARTE NATIONALE D'IDENTITÉ N° :", (0.66, 0.10, 0.97, 0.165)),
        _inline("nationality", "Nationalité", (0.50, 0.17, 0.80, 0.225)),
        Zone("portrait", ZoneKind.PORTRAIT, (0.04, 0.19, 0.33, 0.69)),
        Zone("ovd_portrait", ZoneKind.OVD, (0.025, 0.17, 0.345, 0.71)),  # holographic laminate over the photo
        _inline("surname", "Nom :", (0.44, 0.25, 0.97, 0.31)),
        _inline("given_names", "Prénom(s) :", (0.49, 0.33, 0.97, 0.39)),
        _inline("sex", "Sexe :", (0.45, 0.41, 0.52, 0.47)),
        _inline("birth_date", "Né(e) le :", (0.66, 0.41, 0.97, 0.47)),
        _inline("birth_place", "à :", (0.41, 0.49, 0.97, 0.55)),
        _inline("height", "Taille :", (0.46, 0.57, 0.60, 0.63)),
        Zone("signature", ZoneKind.SIGNATURE, (0.62, 0.56, 0.96, 0.72)),
        Zone("mrz", ZoneKind.MRZ, (0.045, 0.75, 0.955, 0.96)),
    ),
    mrz_format="FRA_CNI_1995",
    mrz_shape=(2, 36),
)

_CNI95_VERSO = CardLayout(
    CardType.CNI_1995,
    Side.VERSO,
    CNI_1995_SIZE_MM,
    (
        Zone("address", ZoneKind.FIELD, (0.05, 0.13, 0.95, 0.33), label="Adresse :",
             label_box=(0.05, 0.06, 0.30, 0.13)),
        _inline("expiry_date", "Carte valable jusqu'au :", (0.44, 0.38, 0.80, 0.45)),
        _inline("issue_date", "délivrée le :", (0.25, 0.48, 0.60, 0.55)),
        _inline("issuing_authority", "par :", (0.14, 0.58, 0.70, 0.65)),
        Zone("signature", ZoneKind.SIGNATURE, (0.05, 0.70, 0.50, 0.93)),  # signature de l'autorité
        Zone("ovd_pictogram", ZoneKind.OVD, (0.64, 0.56, 0.92, 0.93)),  # Marianne hologram
    ),
)

# --- carte Vitale (with photo) ----------------------------------------------------------------

_VITALE_RECTO = CardLayout(
    CardType.CARTE_VITALE,
    Side.RECTO,
    ID1_SIZE_MM,
    (
        Zone("header", ZoneKind.HEADER, (0.0, 0.0, 0.62, 0.24)),
        Zone("chip", ZoneKind.CHIP, (0.08, 0.32, 0.21, 0.52)),
        Zone("portrait", ZoneKind.PORTRAIT, (0.685, 0.10, 0.945, 0.68)),
        _inline("issue_date", "Date de délivrance :", (0.80, 0.70, 0.97, 0.77)),
        _inline("given_names", None, (0.05, 0.58, 0.64, 0.67)),
        _inline("surname", None, (0.05, 0.68, 0.64, 0.77)),
        _inline("nir", None, (0.05, 0.80, 0.66, 0.91)),
    ),
)

LAYOUTS: Mapping[tuple[CardType, Side], CardLayout] = MappingProxyType(
    {(lay.card_type, lay.side): lay for lay in (_CNIE_RECTO, _CNIE_VERSO, _CNI95_RECTO, _CNI95_VERSO, _VITALE_RECTO)}
)
"""Every known layout, by (card type, side)."""


def get_layout(card_type: CardType | str, side: Side | str) -> CardLayout:
    """The layout of ``side`` of ``card_type`` (enums or their string values).

    >>> get_layout("carte_vitale", "verso")
    Traceback (most recent call last):
    ...
    idverify.errors.UsageError: usage_error: no layout for carte_vitale/verso
    """
    try:
        key = (CardType(card_type), Side(side))
    except ValueError as exc:
        raise UsageError("usage_error", f"unknown card type or side: {card_type!r}, {side!r}") from exc
    if key not in LAYOUTS:
        raise UsageError("usage_error", f"no layout for {key[0].value}/{key[1].value}")
    return LAYOUTS[key]
