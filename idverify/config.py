"""Thresholds and limits, frozen and validated, in one place.

Each section is a frozen dataclass with a module-level default. Calibrated
thresholds say where they come from (``*_provenance``): the benchmark command
and data that produced them (see ``benchmarks/RESULTS.md``).

>>> FACE.threshold < 0.6
True
>>> MediaLimits(max_pixels=0)
Traceback (most recent call last):
...
idverify.errors.UsageError: usage_error: MediaLimits.max_pixels must be > 0
"""

from __future__ import annotations

import dataclasses
from typing import Any

from idverify.errors import UsageError


def _require_positive(obj: Any, *names: str) -> None:
    for name in names:
        if not getattr(obj, name) > 0:
            raise UsageError("usage_error", f"{type(obj).__name__}.{name} must be > 0")


def _require_fraction(obj: Any, *names: str) -> None:
    for name in names:
        if not 0.0 <= getattr(obj, name) <= 1.0:
            raise UsageError("usage_error", f"{type(obj).__name__}.{name} must be in [0, 1]")


@dataclasses.dataclass(frozen=True, slots=True)
class MediaLimits:
    """Caps on what :mod:`idverify.media` accepts."""

    max_file_bytes: int = 64 * 1024 * 1024
    max_pixels: int = 50_000_000  # a 12 MP phone photo is 12e6; anything far above is a bomb
    min_image_side: int = 32
    max_video_bytes: int = 200 * 1024 * 1024
    max_video_seconds: float = 120.0  # longer files are refused before decoding
    analysis_seconds: float = 20.0  # clips are decoded and analysed on their first seconds only
    min_video_seconds: float = 0.5
    max_video_frames: int = 1800
    max_video_pixels: int = 1920 * 1920  # per frame: 1080p in either orientation

    def __post_init__(self) -> None:
        _require_positive(self, "max_file_bytes", "max_pixels", "min_image_side", "max_video_bytes",
                          "max_video_seconds", "analysis_seconds", "max_video_frames", "max_video_pixels")
        if self.min_video_seconds < 0 or self.min_video_seconds >= self.max_video_seconds:
            raise UsageError("usage_error", "MediaLimits.min_video_seconds must be in [0, max_video_seconds)")
        if self.analysis_seconds <= self.min_video_seconds:
            raise UsageError("usage_error", "MediaLimits.analysis_seconds must be above min_video_seconds")


@dataclasses.dataclass(frozen=True, slots=True)
class FaceConfig:
    """Face comparison: decision threshold and frame selection.

    ``threshold`` is a Euclidean distance between dlib 128-d embeddings:
    below it the faces match. It is chosen on the LFW pool of
    ``shared/data/labels/face_pairs.csv`` for the false-match target
    ``target_fmr`` (see ``threshold_provenance``).
    """

    threshold: float = 0.549
    target_fmr: float = 0.001
    threshold_provenance: str = (
        "FMR <= 1e-3 on 6.5 M cross-identity LFW-pool comparisons (3,613 images of shared/data "
        "labels/face_pairs.csv, pool lfw); FNMR 7.8 % there; benchmarks/face_accuracy.py, 2026-11-27")
    min_face_px: int = 40  # inter-ocular-free proxy: detected box side in pixels
    reference_upsample: int = 1  # HOG upsampling for small card portraits
    reference_jitters: int = 1
    clip_candidates: int = 12  # frames looked at in a clip (evenly spaced)
    clip_encoded: int = 3  # best frames encoded and fused
    clip_detect_side: int = 480  # frames are downscaled to this long side for detection

    def __post_init__(self) -> None:
        _require_positive(self, "threshold", "min_face_px", "reference_jitters", "clip_candidates",
                          "clip_encoded", "clip_detect_side")
        _require_fraction(self, "target_fmr")
        if self.clip_encoded > self.clip_candidates:
            raise UsageError("usage_error", "FaceConfig.clip_encoded must be <= clip_candidates")


MEDIA = MediaLimits()
FACE = FaceConfig()


# --- activation flow (flow/) ---------------------------------------------------------
# Default eligible départements: DESIGN §1 (the original 8 plus the extension).
DEFAULT_DEPARTEMENTS: tuple[str, ...] = (
    "01", "03", "04", "05", "06", "07", "13", "15", "26", "38", "42",
    "44", "63", "67", "69", "71", "72", "73", "76", "83", "84",
)


@dataclasses.dataclass(frozen=True, slots=True)
class FlowConfig:
    """Activation flow limits (:mod:`idverify.flow`): codes, attempts, deadlines, retention, KDF.

    Durations are in seconds. ``scrypt_n/r/p`` are the KDF cost of the secret
    code hash (n=2**15, r=8 → 32 MiB and ~0.1 s per hash on this machine).
    ``sqlite_synchronous`` is ``NORMAL`` (WAL: atomic and consistent after a
    crash; a power cut may drop the last commits) or ``FULL`` (fsync each commit).

    >>> FlowConfig().email_code_max_failures
    5
    >>> FlowConfig(scrypt_n=1000)
    Traceback (most recent call last):
    ...
    idverify.errors.UsageError: usage_error: FlowConfig.scrypt_n must be a power of two > 1
    """

    eligible_departements: tuple[str, ...] = DEFAULT_DEPARTEMENTS
    activation_ttl: float = 24 * 3600.0  # a user-phase session older than this expires
    email_code_ttl: float = 600.0
    email_code_max_failures: int = 5  # wrong codes per activation before it locks
    email_resend_interval: float = 60.0
    email_max_sends: int = 5
    identity_max_attempts: int = 3
    identity_attempt_timeout: float = 600.0  # a check running longer is deemed interrupted
    review_deadline: float = 48 * 3600.0
    biometric_retention: float = 7 * 24 * 3600.0
    purge_interval: float = 300.0  # the service purges opportunistically at most this often
    scrypt_n: int = 2**15
    scrypt_r: int = 8
    scrypt_p: int = 1
    max_evidence_bytes: int = 64 * 1024 * 1024  # per image
    max_clip_bytes: int = 200 * 1024 * 1024
    sqlite_busy_timeout: float = 60.0
    sqlite_synchronous: str = "NORMAL"

    def __post_init__(self) -> None:
        _require_positive(self, "activation_ttl", "email_code_ttl", "email_code_max_failures",
                          "email_max_sends", "identity_max_attempts", "identity_attempt_timeout", "review_deadline",
                          "biometric_retention", "scrypt_r", "scrypt_p", "max_evidence_bytes",
                          "max_clip_bytes", "sqlite_busy_timeout")
        if self.email_resend_interval < 0 or self.purge_interval < 0:
            raise UsageError("usage_error", "FlowConfig intervals must be >= 0")
        if self.scrypt_n < 2 or self.scrypt_n & (self.scrypt_n - 1):
            raise UsageError("usage_error", "FlowConfig.scrypt_n must be a power of two > 1")
        if self.sqlite_synchronous not in ("NORMAL", "FULL"):
            raise UsageError("usage_error", "FlowConfig.sqlite_synchronous must be NORMAL or FULL")
        for dep in self.eligible_departements:
            if not (len(dep) in (2, 3) and (dep.isdigit() or dep in ("2A", "2B"))):
                raise UsageError("usage_error", f"FlowConfig.eligible_departements: bad code {dep!r}")


FLOW = FlowConfig()


# --- liveness (liveness/) ------------------------------------------------------------
@dataclasses.dataclass(frozen=True, slots=True)
class LivenessConfig:
    """Liveness on a selfie clip (:mod:`idverify.liveness`): tracking, cue thresholds, fusion.

    Thresholds are calibrated by ``benchmarks/liveness_eval.py`` on the real
    bona fide clips of ``shared/data/labels/liveness.csv`` and on synthetic
    attacks from :mod:`idverify.synth.clips` (see ``provenance`` and
    ``benchmarks/RESULTS.md`` ``## liveness``). Distances are in inter-ocular
    distances (IOD), angles in degrees, durations in seconds.

    >>> LIVENESS.max_side
    640
    >>> LivenessConfig(blink_ratio=1.5)
    Traceback (most recent call last):
    ...
    idverify.errors.UsageError: usage_error: LivenessConfig.blink_ratio must be in [0, 1]
    """

    # decoding and tracking
    max_side: int = 640  # frames are decoded at most this large
    detect_side: int = 320  # first detection pass at this long side (escalates when no face)
    redetect_every: int = 10  # frames between detections while tracking
    max_jump_iod: float = 0.6  # landmark jump between frames that triggers a re-detection
    min_tracked_fraction: float = 0.6  # below this share of frames with a face: face_lost
    second_face_ratio: float = 0.5  # another face at least this fraction of the main face's side ...
    second_face_min_detections: int = 2  # ... seen on at least this many detection frames: multiple_faces
    # blinks (eye aspect ratio relative to a rolling open-eye baseline)
    blink_ratio: float = 0.72  # EAR / baseline below this at the bottom of a blink
    blink_max_duration: float = 0.7  # longer closures are not blinks
    baseline_window: float = 1.5  # seconds, rolling high-percentile window
    min_blinks: int = 1
    # head motion and 3-D structure
    min_motion: float = 0.03  # 90th pct. non-similarity shape change (IOD) above which low parallax is planar
    min_parallax: float = 0.045  # 90th pct. nose-tip parallax against the contour (IOD) for a 3-D face
    planar_ratio: float = 0.25  # parallax / motion below this with enough motion: planar_motion
    # plane and parallax on the skin texture (optical flow; see idverify.liveness.parallax)
    parallax_window_s: float = 1.0  # each window follows the texture this long ...
    parallax_every_s: float = 0.5  # ... windows start this often ...
    parallax_step_s: float = 0.08  # ... in flow steps this long
    parallax_max_points: int = 60
    parallax_min_points: int = 12
    parallax_min_turn: float = 4.0  # degrees of yaw over a window for it to be judged
    parallax_min_windows: int = 2  # turning windows needed for relief to count as liveness evidence (one for planar)
    min_relief: float = 0.1  # homography residual (IOD) per radian of turn: heads 0.16-0.6, hand-moved prints <= 0.05
    structure_min_texture: float = 0.02  # skin-texture homography residual (IOD) confirming the landmark parallax
    # screen and print
    max_screen_score: float = 0.5  # fused screen/print score (0..1) at or above which the clip is an attack
    surface_peak_scale: float = 8.0  # periodic spectral peak (log units) at the decision point
    surface_glare_scale: float = 0.2  # share of the face clipped white (median over frames) at the decision point
    # identity continuity
    identity_frames: int = 5  # frames encoded along the clip (one odd frame is tolerated)
    max_identity_drift: float = 0.6  # largest embedding distance between any two of them
    # injection hints
    frozen_min_seconds: float = 0.5  # a run of identical frames longer than this: frozen_frames
    frozen_max_diff: float = 0.35  # mean abs grey difference (0-255, 48x48 thumbnails) for "identical"
    frozen_blip_diff: float = 1.0  # one change up to this inside a frozen run (a re-encoded keyframe) keeps it going
    loop_min_frames: int = 8  # repeated run at least this long (and 0.3 s): looped_frames
    cut_min_diff: float = 20.0  # whole-frame grey change (0-255, thumbnails) of a cut between shots ...
    cut_min_ratio: float = 8.0  # ... and at least this many times the change around it
    # audio
    audio_min_voiced: float = 0.25  # share of frames with voice energy to judge lip sync
    min_audio_corr: float = 0.1
    # active challenge
    challenge_window: float = 12.0  # the actions must all happen within this many seconds of the clip's start
    challenge_yaw: float = 15.0  # degrees away from the starting pose for a turn
    challenge_pitch: float = 12.0
    challenge_mouth: float = 0.35  # inner-lip opening (IOD) for open_mouth
    # fusion
    provenance: str = ("set by hand on benchmarks/liveness_eval.py --data ../shared/data --seeds 0-4,10-99 (14 real "
                       "bona fide clips of labels/liveness.csv, 1 real replay, synthetic seeds incl. close-up "
                       "prints), checked on fresh synthetic seeds 100-129, then 130-304 (with "
                       "structure_min_texture, set on the real clips and close-up prints of seeds 0-12); see "
                       "benchmarks/RESULTS.md ## liveness")

    def __post_init__(self) -> None:
        _require_positive(self, "max_side", "detect_side", "redetect_every", "max_jump_iod", "blink_max_duration",
                          "baseline_window", "min_motion", "min_parallax", "identity_frames", "max_identity_drift",
                          "frozen_min_seconds", "frozen_blip_diff", "loop_min_frames", "cut_min_diff", "cut_min_ratio",
                          "challenge_window", "challenge_yaw", "challenge_pitch", "challenge_mouth",
                          "second_face_min_detections",
                          "surface_peak_scale", "surface_glare_scale", "parallax_window_s", "parallax_every_s",
                          "parallax_step_s", "parallax_max_points", "parallax_min_points", "parallax_min_turn",
                          "parallax_min_windows", "min_relief", "structure_min_texture")
        _require_fraction(self, "blink_ratio", "min_tracked_fraction", "second_face_ratio", "planar_ratio",
                          "max_screen_score", "audio_min_voiced")
        if self.min_blinks < 0:
            raise UsageError("usage_error", "LivenessConfig.min_blinks must be >= 0")


LIVENESS = LivenessConfig()


@dataclasses.dataclass(frozen=True, slots=True)
class DocumentConfig:
    """ID card capture checks (:mod:`idverify.document`): search, quality and tilt thresholds.

    Thresholds are calibrated with ``benchmarks/document_checks.py`` on the
    synthetic captures and the real specimens (see ``threshold_provenance``).
    """

    threads: int = 2  # the three photos are located this many at a time (OpenCV and numpy release the GIL)
    decode_side: int = 800  # photos are decoded at the largest 1/2^k JPEG reduction at least this large
    search_side: int = 640  # the card is searched at this size, then refined at decode size
    small_card_area: float = 0.06  # below this share of the frame (or with no card found) the card is searched
    small_card_search_side: int = 1280  # again at this size (decoded larger in proportion)
    recheck_area: float = 0.15  # ... and when the card found is below this share with an outline not whole
    recheck_support: float = 0.97  # ... or has an outline less whole than this (edge support) ...
    recheck_score: float = 0.97  # ... and is read short of this score
    rectified_width: int = 1011  # rectified cards: 300 dpi for ID-1 (layout.ID1_SIZE_PX)
    sharp_min_card_px: float = 400.0  # a card narrower than this in the decode has its outline polished again
    sharp_card_px: float = 800.0  # ... on a decode where it spans at least this width (or the photo's own)
    min_warp_source_width: float = 520.0  # decode again larger when the card is narrower than this
    focal_factor: float = 0.8  # default focal length / longer image side (phone main camera)
    # tilt angle: focal length estimated from the card's perspective (document.focal) when well conditioned
    focal_min_factor: float = 0.5  # plausible estimated focal / longer image side
    focal_max_factor: float = 3.0
    focal_max_spread: float = 0.2  # relative spread of the estimate under corner noise above which the default is used
    focal_corner_sigma: float = 0.004  # that corner noise, as a fraction of the card width
    min_edge_support: float = 0.6  # mean fraction of the quad's sides lying on aligned image edges
    resensitive_support: float = 0.97  # best edge support below which low-threshold edges are searched too
    sure_side_score: float = 0.75  # the content pick reads a candidate this surely as a card, or looks further
    outlined_support: float = 0.9  # edge support of a card's whole outline (every side on an edge)
    nested_edge_ratio: float = 0.5  # outline beyond a nested card this much fainter than the card's edge: card + sheet
    nested_min_area: float = 0.5  # smallest nested candidate considered, as a share of the outer one's area
    max_aspect_error: float = 0.14  # |log(aspect / card aspect)| (+ the focal cost below)
    # a candidate's aspect is also tried at these multiples of the default focal length, at a cost of
    # aspect_focal_cost x |log(multiple)| (a steep view's aspect depends on the focal length)
    aspect_focal_factors: tuple[float, ...] = (0.7, 0.85, 1.0, 1.2, 1.45, 1.75)
    aspect_focal_cost: float = 0.2
    # too small: under this share of the frame (a card 15 % of a portrait frame's width covers ~1 %), or under
    # min_card_px wide in the photo's pixels (a crop of a zone); readable needs min_card_width_px (below)
    min_area_fraction: float = 0.006
    min_card_px: float = 120.0
    border_margin: float = 0.004  # corners this far outside the frame (fraction of the side) = cut off
    border_side_support: float = 0.9  # a quad at the frame whose weakest side has this edge support is whole
    min_card_width_px: float = 500.0  # card width in original pixels (low_resolution below)
    min_sharpness: float = 0.35
    min_brightness: float = 60.0  # median card luminance (0-255)
    max_clipped: float = 0.25  # fraction of the card at 252+ outside glare spots (overexposed)
    max_glare_zone: float = 0.05  # share of the MRZ band under a glare that hides the print
    max_glare_portrait: float = 0.10
    max_glare_fields: float = 0.20  # field boxes span whole rows: part of them is blank paper
    min_side_score: float = 0.5
    min_template_score: float = 0.5
    min_tilt_deg: float = 12.0
    max_tilt_deg: float = 65.0
    min_same_card: float = 0.82  # median best correlation of the printed values' strokes, flat vs tilted
    # the tilted card located again by the flat card's content (document.match) when it does not register
    match_reference_width: int = 400  # the known rectified card's width for SIFT
    match_photo_side: int = 640  # the photo's longer side for SIFT
    match_features: int = 1000  # SIFT keypoints kept per image
    match_ratio: float = 0.8  # Lowe's ratio test
    match_ransac_px: float = 3.0  # RANSAC reprojection tolerance at match_photo_side
    match_min_inliers: int = 20  # keypoints consistent with the homography
    max_ecc_shift: float = 0.08  # ECC refinement moving a corner further (fraction of the width) has diverged
    min_ovd_response: float = 3.0  # OVD colour change / non-OVD colour change after photometric fit
    max_screen_score: float = 0.5  # share of a ring around the card that is a dark flat bezel
    min_chroma: float = 8.0  # 99th percentile of Lab chroma around the card's median colour: grey copies ~2-5
    threshold_provenance: str = ("tilt, glare, recapture and side thresholds set on synthetic captures (seeds 0-2) "
                                 "and samples/, checked on shared/data specimens; the OVD measure and the aspect "
                                 "focal cost chosen on seeds 0-4, held out 5-14; the content match (match_*) not "
                                 "tuned: SIFT/RANSAC defaults, 20 inliers (located genuine tilted cards had 30-353 "
                                 "on seeds 0-24), max_ecc_shift 8 %: benchmarks/document_checks.py, "
                                 "benchmarks/RESULTS.md#document")

    def __post_init__(self) -> None:
        _require_positive(self, "decode_side", "search_side", "small_card_search_side", "min_card_px",
                          "rectified_width", "focal_factor", "focal_min_factor",
                          "focal_max_factor", "focal_max_spread", "focal_corner_sigma",
                          "min_card_width_px", "max_tilt_deg", "match_reference_width", "match_photo_side",
                          "match_features", "match_ratio", "match_ransac_px", "match_min_inliers", "max_ecc_shift")
        _require_fraction(self, "min_edge_support", "min_area_fraction", "small_card_area", "max_clipped",
                          "max_glare_zone", "max_glare_portrait", "max_glare_fields", "border_margin",
                          "border_side_support", "nested_edge_ratio", "nested_min_area", "sure_side_score",
                          "outlined_support", "recheck_area", "recheck_support", "recheck_score")
        if self.min_tilt_deg >= self.max_tilt_deg:
            raise UsageError("usage_error", "DocumentConfig.min_tilt_deg must be < max_tilt_deg")
        if self.focal_min_factor >= self.focal_max_factor:
            raise UsageError("usage_error", "DocumentConfig.focal_min_factor must be < focal_max_factor")


DOCUMENT = DocumentConfig()


@dataclasses.dataclass(frozen=True, slots=True)
class OCRConfig:
    """MRZ reader and printed-field OCR.

    ``glyph_unsure_margin``: a glyph whose margin (0 = tie, 1 = certain) to
    the runner-up character is below this is "unsure": its runner-up is the
    only repair the MRZ parser may try there, and Tesseract is asked when
    the reading is not valid. Chosen on 200 degraded OCR-B line renders
    (7,230 cells, seed 99; not on the evaluation data): below 0.06 fall 74 %
    of the glyph errors and 0.7 % of the correct cells.
    """

    glyph_unsure_margin: float = 0.06
    tesseract_fallback: bool = True
    mrz_max_side: int = 1600  # images are decoded at most this large for the MRZ search
    mrz_min_width: int = 800  # smaller images (tight MRZ crops) are upscaled to this width
    printed_lang: str = "fra"
    adult_card_years: int = 15  # old French card issued to an adult from 2004-01-02
    minor_card_years: int = 10
    name_similarity: float = 0.85  # printed vs MRZ / account names (accent-folded, ratio)

    def __post_init__(self) -> None:
        _require_fraction(self, "glyph_unsure_margin", "name_similarity")
        _require_positive(self, "mrz_max_side", "mrz_min_width", "adult_card_years", "minor_card_years")


OCR = OCRConfig()
