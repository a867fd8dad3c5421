"""Document capture checks on synthetic captures (idverify.synth) and bad input.

Everything is generated here with fixed seeds at ~1 MP, so the file runs in
seconds and needs no data; the real specimens are covered by
benchmarks/document_checks.py (visible skip below when ../shared/data is absent).
"""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from idverify.config import DOCUMENT
from idverify.document import assess_quality, check_document, check_tilt, classify_card, locate_card
from idverify.document import side as side_module
from idverify.document.layout import CardType, Side, get_layout
from idverify.document.locate import layout_for
from idverify.document.side import Aspect, SideVerdict, card_cues, mrz_lines, percentile_u8
from idverify.reasons import REASONS
from idverify.synth import attacks
from idverify.synth.camera import Glare, Subject, capture, fit_in_frame, sample_params
from idverify.synth.cards import CardRender, render_card
from idverify.synth.persona import make_persona

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "documents"
KINDS = [(CardType.CNIE_2021, Side.RECTO), (CardType.CNIE_2021, Side.VERSO), (CardType.CNI_1995, Side.RECTO),
         (CardType.CNI_1995, Side.VERSO), (CardType.CARTE_VITALE, Side.RECTO)]


@functools.cache
def _card(seed: int, card_type: str, side: str, ovd_angle: float = 0.0) -> CardRender:
    persona = make_persona(np.random.default_rng(seed), sex="F" if seed % 2 else "M")
    return render_card(persona, card_type, side, ovd_angle=ovd_angle)


def _shot(subject: Subject, seed: int, **camera: object) -> tuple[bytes, np.ndarray]:
    rng = np.random.default_rng(seed)
    base = {"megapixels": 1.2, "portrait": False, "glare": (), "defocus": 0.2, "motion": 0.0}
    params = sample_params(rng, **{**base, **camera})
    params = fit_in_frame(params, (subject.image.shape[1], subject.image.shape[0]))
    shot = capture(subject, params, seed=seed)
    return shot.jpeg, shot.corners


def _subject(card: CardRender) -> Subject:
    return Subject(card.image, card.alpha)


@pytest.mark.parametrize(("kind", "roll", "yaw", "pitch"), [
    (0, 4.0, 8.0, -5.0), (1, 93.0, -12.0, 6.0), (2, 181.0, 5.0, 10.0), (4, -35.0, 20.0, 0.0), (0, 200.0, -25.0, 15.0),
])
def test_locate_corners_and_side(kind: int, roll: float, yaw: float, pitch: float) -> None:
    card_type, side = KINDS[kind]
    card = _card(kind, card_type.value, side.value)
    jpeg, corners = _shot(_subject(card), 10 + kind, roll=roll, yaw=yaw, pitch=pitch, card_scale=0.6)
    loc = locate_card(jpeg)
    assert loc.found, loc.reason
    assert loc.corners is not None and loc.rectified is not None
    width = float(np.linalg.norm(corners[1] - corners[0]))
    err = float(np.max(np.linalg.norm(loc.corners - corners, axis=1))) / width
    assert err < 0.02, err
    assert (loc.card_type, loc.side) == (card_type.value, side.value)
    assert loc.rectified.shape[1] == 1011


@pytest.mark.parametrize(("kind", "portrait", "roll"), [(0, False, 20.0), (1, True, 200.0)])
def test_small_card_is_found_by_the_finer_search(kind: int, portrait: bool, roll: float) -> None:
    """A card 18 % of the frame wide (the issue's range starts at 15 %) is found, not ``card_too_small``
    (on a plain background: with clutter it is measured by benchmarks/document_edges.py)."""
    card_type, side = KINDS[kind]
    card = _card(kind, card_type.value, side.value)
    jpeg, corners = _shot(_subject(card), 30 + kind, roll=roll, yaw=10.0, pitch=-8.0, card_scale=0.18,
                          megapixels=8.0, portrait=portrait, clutter=0)
    loc = locate_card(jpeg)
    assert loc.found, loc.reason
    assert loc.corners is not None
    err = float(np.max(np.linalg.norm(loc.corners - corners, axis=1))) / float(np.linalg.norm(corners[1] - corners[0]))
    assert err < 0.02, err
    assert (loc.card_type, loc.side) == (card_type.value, side.value)


@pytest.mark.parametrize("kind", range(len(KINDS)))
def test_classify_flat_renders_both_ways(kind: int) -> None:
    card_type, side = KINDS[kind]
    img = _card(20 + kind, card_type.value, side.value).image
    for turned in (False, True):
        verdict = classify_card(img[::-1, ::-1] if turned else img)
        assert verdict.label == f"{card_type.value}/{side.value}"
        assert verdict.rotated_180 is turned


def test_mrz_line_of_barred_letters_is_counted() -> None:
    """A TD1 line of letters with long bars (``LEFEVRE``), the card rectified at the old card's aspect
    (stretched 12 %), still shows three MRZ lines: the rows between the bars are part of the line."""
    lines = ["IDFRA6RULEZNZS1<<<<<<<<<<<<<<<", "5802036F3307113FRA<<<<<<<<<<<0", "LEFEVRE<<AURELIE<GAELLE<HELENE"]
    persona = make_persona(np.random.default_rng(3), sex="F")
    img = render_card(persona, "cnie_2021", "verso", mrz_lines=lines).image
    stretched = cv2.resize(img, (1011, 713), interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(cv2.resize(stretched, (512, 361), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
    assert mrz_lines(gray)[0] == 3
    assert classify_card(stretched).label == "cnie_2021/verso"


def test_old_verso_survives_an_aspect_estimate_off_by_8_percent() -> None:
    """The old card's verso is read by elimination and by its aspect (1.419); an estimate through the
    perspective can be 8 % off (1.53 measured), but at the ID-1 aspect the same content stays unknown."""
    img = _card(4, "cni_1995", "verso").image
    assert classify_card(img, aspect=1.53).label == "cni_1995/verso"
    assert classify_card(img, aspect=1.586).label == "unknown"


@pytest.mark.parametrize("seed", range(6))
def test_old_verso_under_a_glare_over_its_address_reads_the_right_way_up(seed: int) -> None:
    """A glare washing out the address (the old verso's top half) leaves its halves with as much ink: the text's
    left margin (its lines start together, and end ragged) still tells the way up (4 of these 12 readings were
    turned before)."""
    img = _card(seed, "cni_1995", "verso").image.astype(np.float32)
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    glare = np.exp(-(((xx - 0.3 * w) / (0.25 * w)) ** 2 + ((yy - 0.2 * h) / (0.2 * h)) ** 2))
    washed = cv2.GaussianBlur(np.clip(img + (255 - img) * 0.85 * glare[..., None], 0, 255).astype(np.uint8),
                              (0, 0), 1.5)
    thumb = cv2.resize(washed, (256, round(256 * h / w)), interpolation=cv2.INTER_AREA)
    for turned in (False, True):
        verdict = classify_card(thumb[::-1, ::-1] if turned else thumb, aspect=1.419)
        assert (verdict.label, verdict.rotated_180) == ("cni_1995/verso", turned)


def test_steep_view_aspect_range_reads_both_card_sizes() -> None:
    """A steep view's aspect depends on the focal length: given as a range, the old verso reads where the range
    reaches its aspect (1.31-1.64 at 45°), and not where it stops short of it."""
    img = _card(4, "cni_1995", "verso").image
    assert classify_card(img, aspect=(1.31, 1.64)).label == "cni_1995/verso"
    assert classify_card(img, aspect=(1.58, 1.64)).label == "unknown"


def test_chip_is_a_plate_inside_its_box_not_gold_running_out_of_it() -> None:
    """Brass inside the chip box reads as a chip; the same brass reaching the card's edge (wood, a key, cloth seen
    through a wrong outline) does not. The carte Vitale's chip lies on a yellow band reaching the edge: the colour
    tells the plate from the band."""
    old = _card(4, "cni_1995", "verso").image
    h, w = old.shape[:2]
    brass = (181, 145, 60)
    plate = cv2.rectangle(old.copy(), (int(0.08 * w), int(0.38 * h)), (int(0.2 * w), int(0.56 * h)), brass, -1)
    bar = cv2.rectangle(old.copy(), (0, int(0.38 * h)), (int(0.2 * w), int(0.56 * h)), brass, -1)
    assert card_cues(plate)[0]["chip"] > 0.05
    assert card_cues(bar)[0]["chip"] == 0.0
    assert classify_card(bar).label == "cni_1995/verso"
    verso = _card(21, "cnie_2021", "verso").image.copy()
    verso[:, :int(0.12 * verso.shape[1])] = (255, 204, 0)  # a band over the chip's left part, out to the card's edge
    assert card_cues(verso)[0]["chip"] > 0.05
    assert classify_card(verso).label == "cnie_2021/verso"


def test_cnie_verso_with_an_mrz_line_lost_is_not_the_old_recto() -> None:
    """Blur can merge two TD1 lines or break one up, leaving two MRZ-like lines: with the chip beside them the card
    is still the CNIe's verso (the old card's 2 x 36 MRZ has no chip), and the old recto still reads as itself."""
    img = _card(21, "cnie_2021", "verso").image.copy()
    h, w = img.shape[:2]
    x0, y0, x1, y1 = get_layout(CardType.CNIE_2021, Side.VERSO).zone("mrz").pixel_box((w, h))
    img[y0 + 2 * (y1 - y0) // 3:y1, x0:x1] = np.median(img[y0:y1, x0:x1].reshape(-1, 3), axis=0)  # the last line gone
    cues = card_cues(img)[0]
    assert cues["mrz_lines"] == 2 and cues["chip"] > 0.05
    assert classify_card(img).label == "cnie_2021/verso"
    assert classify_card(_card(22, "cni_1995", "recto").image).label == "cni_1995/recto"


def test_card_read_by_elimination_at_thumbnail_size_is_read_again_sharper(monkeypatch: pytest.MonkeyPatch) -> None:
    """The locator reads the card on a 256 px thumbnail; when that names nothing (an old card's MRZ of 36
    characters can blur there), it reads a 512 px warp before settling for a reading by elimination."""
    real = side_module.classify_card

    def blurred_at_256(rgb: np.ndarray, aspect: Aspect = None) -> SideVerdict:
        verdict = real(rgb, aspect)
        if rgb.shape[1] == 256 and verdict.label == "cni_1995/recto":  # the MRZ lost: text and aspect only
            return dataclasses.replace(verdict, side="verso", score=0.4)
        return verdict

    monkeypatch.setattr(side_module, "classify_card", blurred_at_256)
    card = _card(22, "cni_1995", "recto").image
    scene = np.full((card.shape[0] + 160, card.shape[1] + 160, 3), 40, np.uint8)
    scene[80:-80, 80:-80] = card
    assert locate_card(scene).label == "cni_1995/recto"


def test_portrait_outlined_as_a_card_is_not_the_old_verso() -> None:
    """A portrait outlined as a card (its frame is a clean quad) has no MRZ, chip, flag or green: it read as the
    old card's verso by elimination, at that label's ceiling. Its features run into the margin, which the old
    verso's print leaves plain, and it is now unknown; the old verso itself still reads."""
    for card_type in ("cnie_2021", "carte_vitale"):
        img = _card(3, card_type, "recto").image
        h, w = img.shape[:2]
        x0, y0, x1, y1 = get_layout(CardType(card_type), Side.RECTO).zone("portrait").pixel_box((w, h))
        portrait = cv2.resize(np.ascontiguousarray(np.rot90(img[y0:y1, x0:x1])), (512, 361))  # seen on its side
        assert card_cues(portrait)[0]["ink_margin"] > side_module.MARGIN_INK
        assert classify_card(portrait, aspect=1.419).label == "unknown"
    old = _card(4, "cni_1995", "verso").image
    assert card_cues(old)[0]["ink_margin"] < side_module.MARGIN_INK
    assert classify_card(old, aspect=1.419).label == "cni_1995/verso"


def test_chip_of_a_card_turned_gold_by_a_warm_light_is_still_seen() -> None:
    """A warm light turns a pale carte Vitale gold nearly all over (85 % of it passes the gold colour): the chip
    is still a plate of its own colour inside its box (the cue was once the box's gold less the card's, 0.024)."""
    img = _card(24, "carte_vitale", "recto").image.astype(np.float32)
    warm = np.clip(img * np.array([1.0, 0.93, 0.65], np.float32), 0, 255).astype(np.uint8)
    assert card_cues(warm)[0]["chip"] > 0.05
    assert classify_card(warm).label == "carte_vitale/recto"


def test_text_block_of_a_card_cut_off_by_the_frame_is_not_a_card() -> None:
    """The bundled cut-off recto: the largest whole quad is a block of its text, read by elimination just over the
    "unknown" bar; the card runs off the frame, and that is the reason given."""
    framing = [c for c in check_document(recto=SAMPLES / "cut_off_recto.jpg", read_fields=False).checks
               if c.name == "recto.framing"]
    assert [c.reason for c in framing] == ["card_cut_off"]


def _pair(seed: int, attack: str, angle: float = 32.0) -> tuple[bytes, bytes]:
    flat = _card(seed, "cnie_2021", "recto")
    rng = np.random.default_rng(seed)
    if attack == "genuine":
        s_flat, s_tilt = _subject(flat), _subject(_card(seed, "cnie_2021", "recto", angle))
    elif attack == "other_card":
        s_flat, s_tilt = _subject(flat), _subject(_card(seed + 1, "cnie_2021", "recto", angle))
    else:
        make = {"photocopy": attacks.photocopy, "print": attacks.print_copy, "screen": attacks.screen}[attack]
        s_flat = s_tilt = make(flat, rng)
    a, _ = _shot(s_flat, seed, roll=3.0, yaw=2.0, pitch=-2.0, card_scale=0.6)
    b, _ = _shot(s_tilt, seed + 50, roll=5.0, yaw=angle, pitch=3.0, card_scale=0.6)
    return a, b


def _tilt(seed: int, attack: str) -> dict[str, str | None]:
    a, b = _pair(seed, attack)
    flat, tilted = locate_card(a), locate_card(b)
    result = check_tilt(flat, tilted, layout=layout_for(flat.card_type, flat.side))
    return {c.name: c.reason for c in result.checks}


def test_tilt_genuine_accepted() -> None:
    reasons = _tilt(3, "genuine")
    assert reasons == {"tilt_same_card": None, "tilt_angle": None, "hologram": None}


@pytest.mark.parametrize("attack", ["photocopy", "screen"])
def test_tilt_attacks_rejected(attack: str) -> None:
    reasons = _tilt(5, attack)
    assert reasons["hologram"] == "no_hologram_response"


def test_tilt_of_another_card_is_not_the_same_card() -> None:
    assert _tilt(7, "other_card")["tilt_same_card"] == "tilt_not_same_card"


def test_flat_pair_is_not_a_tilt() -> None:
    a, _ = _pair(9, "genuine")
    b, _ = _shot(_subject(_card(9, "cnie_2021", "recto")), 77, roll=-3.0, yaw=-3.0, pitch=2.0, card_scale=0.55)
    flat, again = locate_card(a), locate_card(b)
    reasons = {c.name: c.reason for c in check_tilt(flat, again, layout=layout_for(flat.card_type, flat.side)).checks}
    assert reasons["tilt_angle"] == "tilt_angle_out_of_range"
    assert reasons["tilt_same_card"] is None


def test_quality_checks() -> None:
    card = _card(1, "cnie_2021", "verso")
    layout = get_layout("cnie_2021", "verso")
    good = {c.name: c for c in assess_quality(card.image, card_width_px=1400.0, layout=layout)}
    assert all(c.passed for c in good.values()), good
    import cv2

    blurred = cv2.GaussianBlur(card.image, (0, 0), 4)
    assert {c.name: c.reason for c in assess_quality(blurred, card_width_px=1400.0)}["sharpness"] == "too_blurry"
    dark = (card.image * 0.15).astype(np.uint8)
    assert {c.name: c.reason for c in assess_quality(dark, card_width_px=1400.0)}["exposure"] == "underexposed"
    small = {c.name: c.reason for c in assess_quality(card.image, card_width_px=300.0)}
    assert small["resolution"] == "low_resolution"
    glare = card.image.copy()
    x0, y0, x1, y1 = layout.zone("mrz").pixel_box((glare.shape[1], glare.shape[0]))
    glare[y0:y1, x0:(x0 + x1) // 2] = 255
    assert {c.name: c.reason for c in assess_quality(glare, card_width_px=1400.0, layout=layout)}["glare"] \
        == "glare_on_mrz"


def test_glare_spot_on_capture_is_reported() -> None:
    card = _card(2, "cnie_2021", "verso")
    jpeg, _ = _shot(_subject(card), 31, roll=2.0, yaw=3.0, pitch=2.0, card_scale=0.6,
                    glare=(Glare(0.35, 0.8, 0.12, 1.0),))
    loc = locate_card(jpeg)
    assert loc.found and loc.rectified is not None
    reasons = {c.name: c.reason for c in assess_quality(loc.rectified, card_width_px=loc.card_width_px,
                                                         layout=layout_for(loc.card_type, loc.side))}
    assert reasons["glare"] == "glare_on_mrz"


def test_bad_input_gives_reasons_not_tracebacks() -> None:
    blank = np.full((600, 800, 3), 180, np.uint8)
    noise = np.random.default_rng(0).integers(0, 255, (600, 800, 3), dtype=np.uint8)
    report = check_document(recto=blank, verso=noise, tilted=b"GIF89a not an image", read_fields=False)
    assert not report.passed
    reasons = {c.name: c.reason for c in report.checks}
    assert reasons["recto.card_found"] == "card_not_found"
    assert reasons["verso.card_found"] == "card_not_found"
    assert reasons["tilted.card_found"] == "image_format_unsupported"
    huge = np.zeros((8000, 8000, 3), np.uint8)
    assert check_document(recto=huge, read_fields=False).check("recto.card_found").reason == "image_too_large"
    assert check_document(recto="/nonexistent/x.jpg", read_fields=False).reasons[0] == "file_not_found"
    for code in report.reasons:
        assert code in REASONS
    json.dumps(report.to_dict())


def test_recto_passed_as_verso_and_swapped_sides() -> None:
    recto, _ = _shot(_subject(_card(4, "cnie_2021", "recto")), 41, roll=1.0, yaw=4.0, pitch=3.0, card_scale=0.6)
    verso, _ = _shot(_subject(_card(4, "cnie_2021", "verso")), 42, roll=-2.0, yaw=-4.0, pitch=2.0, card_scale=0.6)
    twice = check_document(recto=recto, verso=recto, read_fields=False)
    assert "same_side_twice" in twice.reasons
    swapped = check_document(recto=verso, verso=recto, read_fields=False)
    assert "sides_swapped" in swapped.reasons
    vitale, _ = _shot(_subject(_card(4, "carte_vitale", "recto")), 43, roll=0.0, yaw=2.0, pitch=1.0, card_scale=0.6)
    mixed = check_document(recto=recto, verso=vitale, read_fields=False)
    assert "mixed_cards" in mixed.reasons


def test_full_report_has_crops_portrait_and_json() -> None:
    recto, tilted = _pair(11, "genuine")
    verso, _ = _shot(_subject(_card(11, "cnie_2021", "verso")), 61, roll=-1.0, yaw=-3.0, pitch=4.0, card_scale=0.6)
    report = check_document(recto=recto, verso=verso, tilted=tilted, read_fields=False)
    assert report.passed, report.reasons
    assert report.portrait is not None and report.portrait.ndim == 3
    for c in report.checks:  # the issue: every check has a score, a threshold and an evidence crop
        assert c.score is not None and c.threshold is not None, c.name
        assert c.evidence.get("crop") in report.crops, (c.name, c.evidence.get("crop"))
        assert c.evidence.get("other_crop", "recto/rectified") in report.crops, c.name
    data = report.to_dict()
    json.dumps(data)
    assert "crops" not in data and data["passed"] is True


def test_photos_checked_side_by_side_give_the_report_of_one_at_a_time() -> None:
    recto, tilted = _pair(12, "genuine")
    verso, _ = _shot(_subject(_card(12, "cnie_2021", "verso")), 62, roll=2.0, yaw=3.0, pitch=-2.0, card_scale=0.5)
    reports = [check_document(recto=recto, verso=verso, tilted=tilted, read_fields=False,
                              cfg=dataclasses.replace(DOCUMENT, threads=threads)) for threads in (1, 2)]
    one, two = (r.to_dict() for r in reports)
    for report in (one, two):
        report["details"].pop("capture_ms")  # the time taken differs
    assert one == two and one["passed"]
    assert list(reports[0].crops) == list(reports[1].crops)
    assert all(np.array_equal(reports[0].crops[k], reports[1].crops[k]) for k in reports[0].crops)


def test_percentile_of_a_grey_image_is_numpys() -> None:
    rng = np.random.default_rng(5)
    for i in range(400):
        h, w = (int(v) for v in rng.integers(1, 40, 2))
        gray = rng.integers(0, int(rng.integers(1, 256)), (h, w)).astype(np.uint8)[:: 1 if i % 2 else -1]
        q = float(rng.uniform(0, 100)) if i % 3 else 90.0
        assert percentile_u8(gray, q) == float(np.percentile(gray, q)), (h, w, q)


@pytest.mark.skipif(not DATA.is_dir(), reason="needs ../shared/data")
def test_real_specimens_side_and_type() -> None:
    cases = {
        "parse_french_id_card_n0ct0s/test-new-back.png": "cnie_2021/verso",
        "franceocr_mairie_de_paris/hist_CNI.jpg": "cni_1995/recto",
        "mindee_client_lib_test_data/carte_vitale/default_sample.jpg": "carte_vitale/recto",
    }
    from idverify.media import load_image

    for rel, label in cases.items():
        img = load_image(DATA / rel, max_side=1200).pixels
        assert classify_card(img).label == label, rel


@pytest.mark.skipif(not DATA.is_dir(), reason="needs ../shared/data")
def test_real_blank_old_card_found_whole() -> None:
    """A scan with a 3 px margin under the card: the whole card, not the part below its blue banner."""
    loc = locate_card(DATA / "parse_french_id_card_n0ct0s" / "template-old-cni.jpg")
    assert loc.found and loc.corners is not None
    assert (loc.card_type, loc.side) == ("cni_1995", "recto")
    assert float(loc.corners[:, 1].min()) < 30  # the top edge above the banner (y ~ 10 of 932)


@pytest.mark.skipif(not DATA.is_dir(), reason="needs ../shared/data")
def test_real_cnie_verso_fits_the_layout() -> None:
    """The specimen CNIe verso: 2D code top-left above the chip, ghost portrait top-right, TD1 MRZ."""
    from idverify.document.template import check_template, zone_tests

    loc = locate_card(DATA / "parse_french_id_card_n0ct0s" / "test-new-back.png")
    assert loc.found and loc.rectified is not None and (loc.card_type, loc.side) == ("cnie_2021", "verso")
    layout = get_layout(CardType.CNIE_2021, Side.VERSO)
    tests = zone_tests(loc.rectified, layout)
    assert tests["barcode"] and tests["chip"] and tests["mrz"], tests
    assert check_template(loc.rectified, layout).passed


def test_cli_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from idverify.cli import main

    recto, tilted = _pair(13, "genuine")
    verso, _ = _shot(_subject(_card(13, "cnie_2021", "verso")), 71, roll=2.0, yaw=-3.0, pitch=3.0, card_scale=0.6)
    for name, data in (("r.jpg", recto), ("v.jpg", verso), ("t.jpg", tilted)):
        (tmp_path / name).write_bytes(data)
    args = ["document", "--recto", str(tmp_path / "r.jpg"), "--verso", str(tmp_path / "v.jpg"),
            "--tilted", str(tmp_path / "t.jpg"), "--json", "--no-fields"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["passed"] is True and out["checks"]
    swapped = ["document", "--recto", str(tmp_path / "v.jpg"), "--verso", str(tmp_path / "r.jpg"),
               "--tilted", str(tmp_path / "t.jpg"), "--json", "--no-fields"]
    assert main(swapped) == 1
    assert "sides_swapped" in json.loads(capsys.readouterr().out)["reasons"]
    missing = ["document", "--recto", str(tmp_path / "nope.jpg"), "--verso", str(tmp_path / "v.jpg"),
               "--tilted", str(tmp_path / "t.jpg"), "--json", "--no-fields"]
    assert main(missing) == 2
    assert json.loads(capsys.readouterr().out)["reason"] == "file_not_found"


def test_side_confidence_is_relative_to_the_label_ceiling() -> None:
    """The old card's verso rule tops out at 0.5: at its top it is as sure as any other label at 1.0."""
    from idverify.document.side import SideVerdict

    assert SideVerdict("cni_1995", "verso", 0.5, False, {}).confidence == 1.0
    assert SideVerdict("cnie_2021", "recto", 0.5, False, {}).confidence == 0.5
    assert SideVerdict(None, None, 0.9, False, {}).confidence == 0.0


def test_mrz_of_another_document_is_a_reason() -> None:
    from idverify.document.check import mrz_document_check

    french = mrz_document_check("verso", "cnie_2021", valid=True, mrz_format="TD1", issuing_state="FRA")
    assert french is not None and french.passed and french.score == french.threshold == 2.0
    passport = mrz_document_check("recto", "cni_1995", valid=True, mrz_format="TD3", issuing_state="FRA")
    assert passport is not None and not passport.passed and passport.reason == "mrz_document_mismatch"
    assert passport.score == 1.0 and passport.evidence["expected_format"] == "FRA_CNI_1995"
    assert "mrz_document_mismatch" in REASONS
    # an unsure read, or a card without an MRZ of its own, says nothing
    assert mrz_document_check("verso", "cnie_2021", valid=False, mrz_format="TD1", issuing_state="ESP") is None
    assert mrz_document_check("recto", "carte_vitale", valid=True, mrz_format="TD1", issuing_state="FRA") is None


@pytest.mark.skipif(not DATA.is_dir(), reason="needs ../shared/data")
def test_foreign_id_card_laid_out_like_a_cnie_verso_is_refused_by_its_mrz() -> None:
    foreign = DATA / "mindee_client_lib_test_data" / "generated" / "international_id.jpg"
    report = check_document(recto=foreign, verso=foreign, read_fields=True)
    verdict = next(c for c in report.checks if c.name == "verso.mrz_document")
    assert not verdict.passed and verdict.reason == "mrz_document_mismatch"
    assert verdict.evidence["issuing_state"] != "FRA"
    french = DATA / "parse_french_id_card_n0ct0s" / "test-new-back.png"
    report = check_document(verso=french, read_fields=True)
    assert next(c for c in report.checks if c.name == "verso.mrz_document").passed


def test_a_strip_of_blue_table_along_a_side_is_not_the_cnie_flag() -> None:
    """An outline a little too wide takes in a strip of a blue table along a side: the CNIe's flags are islands of
    colour inside the card, so the strip reads as neither; the old card's verso stays itself."""
    old = _card(4, "cni_1995", "verso").image
    h, w = old.shape[:2]
    strip = round(0.05 * w)
    for left in (True, False):
        table = np.full((h, w + strip, 3), (105, 110, 205), np.uint8)
        if left:
            table[:, strip:] = old
        else:
            table[:, :w] = old
        assert classify_card(table).label == "cni_1995/verso"
    recto = _card(4, "cnie_2021", "recto").image.copy()
    assert card_cues(recto)[0]["eu_blue_tr"] > 0.05 and classify_card(recto).label == "cnie_2021/recto"
