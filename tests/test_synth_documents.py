"""Synthetic documents: MRZ validity, ground truth vs pixels, determinism, attack labels, the committed set."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from idverify.document.layout import LAYOUTS, CardType, Side, ZoneKind, get_layout
from idverify.ocr.checkdigit import calc_check_digit
from idverify.ocr.mrz import parse_mrz
from idverify.ocr.nir import is_valid as nir_is_valid
from idverify.reasons import REASONS
from idverify.synth.attacks import alter_mrz
from idverify.synth.cards import mrz_lines_for, render_card
from idverify.synth.persona import make_persona, mrz_name
from idverify.synth.samples import _SETS, _personas, _plan, generate_samples

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
SUBSET = ("genuine_cnie_verso", "genuine_cnie_tilted", "spoof_photocopy_tilted", "mrz_altered_verso",
          "cut_off_recto", "screen_recto")


@pytest.fixture(scope="module")
def subset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    generate_samples(out, seed=0, clips=False, only=lambda i: i in SUBSET)
    return out


def _gt(root: Path, sample_id: str) -> dict:
    return json.loads((root / "documents" / f"{sample_id}.json").read_text(encoding="utf-8"))


def _image(root: Path, sample_id: str) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(root / "documents" / f"{sample_id}.jpg")), cv2.COLOR_BGR2RGB)


# --- layout -----------------------------------------------------------------------------------


def test_layouts_are_complete_and_inside_the_card() -> None:
    assert len(LAYOUTS) == 5
    recto, verso = get_layout(CardType.CNIE_2021, Side.RECTO), get_layout(CardType.CNIE_2021, Side.VERSO)
    assert {"surname", "given_names", "sex", "nationality", "birth_date", "birth_place", "usage_name",
            "document_number", "expiry_date", "card_access_number"} <= {z.name for z in recto.fields()}
    assert {"height", "issue_date", "address"} <= {z.name for z in verso.fields()}
    for name in ("mrz", "chip", "barcode", "ghost_portrait", "ovd_pictogram"):
        assert verso.has(name)
    assert recto.zone("ovd_portrait").kind is ZoneKind.OVD
    assert get_layout("cni_1995", "recto").mrz_format == "FRA_CNI_1995"
    for lay in LAYOUTS.values():
        for z in lay.zones:
            x0, y0, x1, y1 = z.pixel_box(lay.size_px())
            assert 0 <= x0 < x1 <= lay.size_px()[0] and 0 <= y0 < y1 <= lay.size_px()[1]


# --- personas and MRZ -------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(12))
def test_persona_mrz_passes_icao_check_digits_and_altered_fails(seed: int) -> None:
    p = make_persona(np.random.default_rng(seed))
    assert nir_is_valid(p.nir)
    assert p.nir[0] == ("2" if p.sex == "F" else "1") and p.nir[1:5] == p.birth_date[2:4] + p.birth_date[5:7]
    td1 = mrz_lines_for(p, CardType.CNIE_2021)
    assert [len(line) for line in td1] == [30, 30, 30]
    # the check digits by hand (ICAO 9303, 7-3-1)
    assert td1[0][14] == calc_check_digit(td1[0][5:14])
    assert td1[1][6] == calc_check_digit(td1[1][0:6]) and td1[1][14] == calc_check_digit(td1[1][8:14])
    assert td1[1][29] == calc_check_digit(td1[0][5:30] + td1[1][0:7] + td1[1][8:15] + td1[1][18:29])
    assert td1[2].startswith(mrz_name(p.surname) + "<<")
    old = mrz_lines_for(p, CardType.CNI_1995)
    assert [len(line) for line in old] == [36, 36]
    assert old[1][12] == calc_check_digit(old[1][:12]) and old[1][33] == calc_check_digit(old[1][27:33])
    assert old[1][35] == calc_check_digit(old[0] + old[1][:35])
    for lines, fmt in ((td1, "TD1"), (old, "FRA_CNI_1995")):
        ok = parse_mrz(list(lines), repair=False)
        assert ok.valid and ok.format == fmt, ok.to_dict()
        assert ok.fields["birth_date"] == p.birth_date and ok.fields["sex"] == p.sex
        for field in ("document_number", "birth_date"):
            bad = parse_mrz(list(alter_mrz(lines, fmt, field)), repair=False)
            assert not bad.valid and bad.reason == "mrz_check_digit"


# --- renders and the hologram -----------------------------------------------------------------


def test_ovd_response_only_inside_ovd_zones_and_changes_with_angle() -> None:
    p = make_persona(np.random.default_rng(5), sex="F")
    lay = get_layout(CardType.CNIE_2021, Side.RECTO)
    flat = render_card(p, CardType.CNIE_2021, Side.RECTO).image
    views = {a: render_card(p, CardType.CNIE_2021, Side.RECTO, ovd_angle=a).image for a in (15.0, 45.0)}
    x0, y0, x1, y1 = lay.zone("ovd_portrait").pixel_box(lay.size_px())
    inside = np.zeros(flat.shape[:2], bool)
    inside[y0:y1, x0:x1] = True
    tilted = render_card(p, CardType.CNIE_2021, Side.RECTO, ovd_angle=30.0).image
    assert (tilted[~inside] == flat[~inside]).all()
    assert np.abs(tilted[inside].astype(int) - flat[inside]).mean() > 8

    def hue(img: np.ndarray) -> np.ndarray:
        return cv2.cvtColor(img[y0:y1, x0:x1], cv2.COLOR_RGB2HSV)[..., 0].astype(int)

    assert np.abs(hue(views[15.0]) - hue(views[45.0])).mean() > 10


# --- generated samples: ground truth matches the pixels ---------------------------------------


def _rectify(img: np.ndarray, corners: list[list[float]], size: tuple[int, int]) -> np.ndarray:
    w, h = size
    src = np.array(corners, np.float32)
    dst = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    return cv2.warpPerspective(img, cv2.getPerspectiveTransform(src, dst), (w, h))


def _ncc(a: np.ndarray, b: np.ndarray) -> float:
    """Normalised cross-correlation after light normalisation (divide by a wide blur) and denoising."""

    def norm(img: np.ndarray) -> np.ndarray:
        g = cv2.GaussianBlur(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32), (0, 0), 1.5)
        g = g / (cv2.GaussianBlur(g, (0, 0), 25) + 1)
        return g - g.mean()

    na, nb = norm(a), norm(b)
    return float((na * nb).sum() / np.sqrt((na**2).sum() * (nb**2).sum()))


@pytest.mark.parametrize("sample_id", ["genuine_cnie_verso", "genuine_cnie_tilted", "mrz_altered_verso"])
def test_corners_in_ground_truth_are_where_the_card_is(subset: Path, sample_id: str) -> None:
    gt = _gt(subset, sample_id)
    img = _image(subset, sample_id)
    assert list(img.shape[1::-1]) == gt["image_size"]
    lay = get_layout(gt["card_type"], gt["side"])
    size = lay.size_px()
    rect = _rectify(img, gt["corners"], size)
    persona = _personas(0)[gt["persona_id"]]
    kw = {"mrz_lines": gt["mrz_lines"]} if gt["mrz_lines"] else {}
    ref = render_card(persona, gt["card_type"], gt["side"], ovd_angle=gt["ovd_angle_deg"], **kw).image
    assert _ncc(rect, ref) > 0.75
    # two corners shifted by 4 % of the card width: the correlation collapses
    moved = [list(c) for c in gt["corners"]]
    moved[0][0] += 0.04 * np.linalg.norm(np.subtract(gt["corners"][1], gt["corners"][0]))
    moved[1][1] += 0.04 * np.linalg.norm(np.subtract(gt["corners"][1], gt["corners"][0]))
    assert _ncc(_rectify(img, moved, size), ref) < 0.5


def test_mrz_in_ground_truth_is_the_composed_one(subset: Path) -> None:
    gt = _gt(subset, "genuine_cnie_verso")
    persona = _personas(0)["genuine"]
    assert gt["mrz_lines"] == gt["card_mrz_lines"] == list(mrz_lines_for(persona, CardType.CNIE_2021))
    assert parse_mrz(gt["mrz_lines"], repair=False).valid
    assert gt["persona"]["nir"] == persona.nir and gt["persona"]["surname"] == persona.surname
    altered = _gt(subset, "mrz_altered_verso")
    assert altered["mrz_lines"] != altered["card_mrz_lines"]
    assert sum(a != b for a, b in zip("".join(altered["mrz_lines"]), "".join(altered["card_mrz_lines"]),
                                      strict=True)) == 1
    assert parse_mrz(altered["mrz_lines"], repair=False).reason == "mrz_check_digit"


def test_cut_off_card_is_partly_outside_the_frame(subset: Path) -> None:
    gt = _gt(subset, "cut_off_recto")
    w = gt["image_size"][0]
    xs = [c[0] for c in gt["corners"]]
    assert max(xs) > w and 0.3 < gt["card_visible_fraction"] < 0.95
    assert gt["expected"]["checks"]["capture_quality"] == {"passed": False, "reason": "card_cut_off",
                                                           "needs_set": False}
    for sid in ("genuine_cnie_verso", "genuine_cnie_tilted"):
        g = _gt(subset, sid)
        assert g["card_visible_fraction"] == 1.0


def test_recaptures_have_no_ovd_response_and_genuine_tilt_does(subset: Path) -> None:
    assert _gt(subset, "genuine_cnie_tilted")["ovd_angle_deg"] == 30.0
    assert _gt(subset, "genuine_cnie_tilted")["ovd_response"] is True
    for sid in ("spoof_photocopy_tilted", "screen_recto"):
        g = _gt(subset, sid)
        assert g["ovd_angle_deg"] == 0.0 and g["ovd_response"] is False
    copy = _gt(subset, "spoof_photocopy_tilted")
    assert copy["tilt_deg"] == 30.0 and copy["expected"]["checks"]["hologram"]["reason"] == "no_hologram_response"


def test_same_seed_same_bytes_other_seed_other_bytes(subset: Path, tmp_path: Path) -> None:
    def only(i: str) -> bool:
        return i == "genuine_cnie_verso"

    generate_samples(tmp_path / "a", seed=0, clips=False, only=only)
    generate_samples(tmp_path / "b", seed=1, clips=False, only=only)
    for ext in ("jpg", "json"):
        same = (tmp_path / "a" / "documents" / f"genuine_cnie_verso.{ext}").read_bytes()
        assert same == (subset / "documents" / f"genuine_cnie_verso.{ext}").read_bytes()
        assert same != (tmp_path / "b" / "documents" / f"genuine_cnie_verso.{ext}").read_bytes()


# --- labels --------------------------------------------------------------------------------------


def test_every_variant_is_labelled_with_known_reason_codes() -> None:
    plan = _plan()
    ids = {s.id for s in plan}
    assert len(ids) == len(plan)
    attacks = {s.attack for s in plan}
    assert {"photocopy", "print", "screen", "portrait_substituted", "mrz_altered", "fields_mismatch", "expired",
            "cut_off", "too_blurry", "glare_on_mrz", "no_card", "none"} <= attacks
    for s in plan:
        failures = [r for ok, r in s.expected.values() if not ok]
        assert all(r in REASONS for r in failures), s.id
        assert bool(failures) == (s.attack != "none"), s.id
        if s.attack in ("photocopy", "print", "screen") and s.tilt:
            assert s.expected["hologram"] == (False, "no_hologram_response")
    for _set_id, *members in _SETS:
        assert set(members) <= ids
    assert {abs(s.tilt) for s in plan if s.attack == "none" and s.tilt} >= {15.0, 30.0, 45.0, 50.0}


# --- the committed set ----------------------------------------------------------------------------


@pytest.mark.skipif(not (SAMPLES / "index.json").is_file(), reason="samples/ not generated")
def test_committed_samples_are_consistent() -> None:
    index = json.loads((SAMPLES / "index.json").read_text(encoding="utf-8"))
    docs = [e for e in index["samples"] if e["kind"] == "document"]
    assert len(docs) == len(_plan())
    for e in index["samples"]:
        for rel in e["paths"]:
            assert (SAMPLES / rel).is_file(), rel
        assert (SAMPLES / e["ground_truth"]).is_file()
    for e in docs:
        gt = json.loads((SAMPLES / e["ground_truth"]).read_text(encoding="utf-8"))
        assert gt["expected"]["outcome"] == e["expected_outcome"]
        if gt["mrz_lines"]:
            assert parse_mrz(gt["mrz_lines"], repair=False).valid == (gt["attack"] != "mrz_altered"), e["id"]
    by_id = {s["id"]: s for s in index["sets"]}
    assert by_id["genuine_cnie"]["expected_outcome"] == "pass"
    assert "photocopy" in by_id["spoof_photocopy"]["reasons"]


@pytest.mark.parametrize("key", sorted(LAYOUTS, key=lambda k: (k[0].value, k[1].value)))
def test_printed_values_and_mrz_are_drawn_inside_their_zones(key: tuple[CardType, Side]) -> None:
    """What OCR reads from a zone is really drawn there: blanking a value changes pixels only in its box."""
    p = make_persona(np.random.default_rng(11), sex="F")
    card_type, side = key
    lay = LAYOUTS[key]
    render = render_card(p, card_type, side)
    full = render.image.astype(int)
    w, h = lay.size_px()
    names = [z.name for z in lay.fields() if render.printed[z.name]] + (["mrz"] if lay.mrz_shape else [])
    for name in names:
        kw = {"mrz_lines": ()} if name == "mrz" else {"printed_overrides": {name: ""}}
        blank = render_card(p, card_type, side, **kw).image.astype(int)
        ys, xs = np.nonzero(np.abs(full - blank).max(axis=2) > 40)
        assert len(xs) > 50, name
        x0, y0, x1, y1 = lay.zone(name).pixel_box((w, h))
        tol = 3
        assert xs.min() >= x0 - tol and xs.max() <= x1 + tol and ys.min() >= y0 - tol and ys.max() <= y1 + tol, (
            name, (xs.min(), ys.min(), xs.max(), ys.max()), (x0, y0, x1, y1))


def _ovd_contrast(sample_id: str, zone: str) -> float:
    """Mean HSV saturation inside the OVD zone minus outside it, on the card rectified with the GT corners."""
    gt = _gt(SAMPLES, sample_id)
    lay = get_layout(gt["card_type"], gt["side"])
    rect = cv2.cvtColor(_rectify(_image(SAMPLES, sample_id), gt["corners"], lay.size_px()), cv2.COLOR_RGB2HSV)
    x0, y0, x1, y1 = lay.zone(zone).pixel_box(lay.size_px())
    inside = np.zeros(rect.shape[:2], bool)
    inside[y0:y1, x0:x1] = True
    sat = rect[..., 1].astype(float)
    return float(sat[inside].mean() - sat[~inside].mean())


@pytest.mark.skipif(not (SAMPLES / "index.json").is_file(), reason="samples/ not generated")
@pytest.mark.parametrize(("flat", "tilted", "zone", "responds"), [
    ("genuine_cnie_recto", "genuine_cnie_tilted", "ovd_portrait", True),
    ("genuine_cnie_verso", "genuine_cnie_tilted_verso_45", "ovd_pictogram", True),
    ("legacy_cni_recto", "legacy_cni_tilted", "ovd_portrait", True),
    ("spoof_photocopy_recto", "spoof_photocopy_tilted", "ovd_portrait", False),
    ("print_recto", "print_tilted", "ovd_portrait", False),
    ("screen_recto", "screen_tilted", "ovd_portrait", False),
])
def test_committed_tilts_show_the_hologram_only_on_genuine_cards(flat: str, tilted: str, zone: str,
                                                                  responds: bool) -> None:
    gain = _ovd_contrast(tilted, zone) - _ovd_contrast(flat, zone)
    assert (gain > 20) if responds else (gain < 10), gain


def test_unwritable_output_is_a_usage_error(tmp_path: Path) -> None:
    from idverify.cli import main
    from idverify.errors import UsageError

    target = tmp_path / "a_file"
    target.write_text("x")
    with pytest.raises(UsageError):
        generate_samples(target, clips=False, only=lambda i: False)
    assert main(["samples", str(target), "--json"]) == 2
