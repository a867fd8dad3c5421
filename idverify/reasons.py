"""The one table of reason codes.

Every ``Check.reason`` and every ``IdVerifyError.reason`` is a key of
:data:`REASONS`; a test walks the package to make sure of it. Codes are
``snake_case``, stable (clients switch on them) and never renamed.

>>> describe("face_mismatch")
'the faces are of different people (distance above the threshold)'
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# --- input and infrastructure (media.py, models.py, errors.py) -----------------
_INPUT = {
    "input_invalid": "the input cannot be used",
    "input_empty": "the input is empty (0 bytes or no frames)",
    "input_type": "the input is not a path, bytes or a numpy image",
    "file_not_found": "no file at that path",
    "file_too_large": "the file is larger than the configured limit",
    "image_format_unsupported": "not a JPEG, PNG or WebP image",
    "image_corrupt": "the image data is corrupt or truncated",
    "image_too_large": "the image has more pixels than the configured limit (decompression bomb guard)",
    "image_too_small": "the image is too small to analyse",
    "video_format_unsupported": "not a video container idverify can decode (MP4, MOV, WebM, MKV, AVI)",
    "video_corrupt": "the video cannot be decoded or is truncated before any frame",
    "video_too_long": "the clip is longer than the configured limit",
    "video_too_large": "the clip's resolution, frame count or size is above the configured limit",
    "video_too_short": "the clip is shorter than the configured minimum",
    "usage_error": "the API was called the wrong way",
    "error": "unspecified error",
    "engine_error": "an engine is not installed or not working",
    "model_missing": "a model file is missing (run scripts/setup.sh)",
    "model_invalid": "a model file does not match models/manifest.json",
}

# --- face comparison (face/) ---------------------------------------------------
_FACE = {
    "face_mismatch": "the faces are of different people (distance above the threshold)",
    "no_face_reference": "no face found in the reference image",
    "no_face_probe": "no usable face found in the probe image or clip",
    "multiple_faces_reference": "several faces in the reference image",
    "multiple_faces_probe": "several faces in the probe image or in the clip's frames",
    "face_too_small_reference": "the reference face is too small to compare reliably",
    "face_too_small_probe": "the probe face is too small to compare reliably",
    "probe_identity_inconsistent": "the selected clip frames do not show one consistent person",
}

# --- document capture checks (document/) ----------------------------------------
_DOCUMENT: dict[str, str] = {
    "card_not_found": "no ID card found in the image",
    "card_cut_off": "part of the card is outside the frame",
    "too_blurry": "the card is too blurry to read (defocus or motion)",
    "glare_on_mrz": "a glare spot covers the MRZ",
    "no_hologram_response": "the optically variable zones do not change between the flat and tilted captures",
    "screen_recapture": "the card is shown on a screen (moire, pixel grid, bezel)",
    "photocopy": "the card is a photocopy (grey or flat colours, toner noise)",
    "print_recapture": "the card is a print on paper (halftone, no optically variable response)",
    "portrait_substituted": "the card portrait does not match the ghost portrait",
    "document_expired": "the document is past its validity date",
    "card_too_small": "the card fills too little of the frame: move the camera closer",
    "low_resolution": "too few pixels across the card to read it",
    "underexposed": "the card is too dark",
    "overexposed": "the card is too bright (washed out, clipped highlights)",
    "glare_on_portrait": "a glare spot covers the portrait",
    "glare_on_fields": "a glare spot covers the printed fields",
    "wrong_side": "this photo does not show the expected side of the card",
    "sides_swapped": "the recto and verso photos are swapped",
    "same_side_twice": "the recto and verso photos show the same side",
    "mixed_cards": "the photos show different cards (type or holder)",
    "unknown_document": "not a document idverify knows (CNIe, old French ID card, carte Vitale)",
    "template_mismatch": "the card's zones are not where its type puts them (wrong card type or edited layout)",
    "tilt_not_same_card": "the tilted photo does not show the same card as the recto",
    "tilt_angle_out_of_range": "the tilted photo is not tilted enough (or too much) to show the hologram",
}

# --- OCR, MRZ, NIR and cross-checks (ocr/) --------------------------------------
_OCR: dict[str, str] = {
    "mrz_not_found": "no machine-readable zone found in the image",
    "mrz_unreadable": "an MRZ was located but its characters could not be read reliably",
    "mrz_format_unknown": "the MRZ lines have no known shape (TD1 3x30, TD2 2x36, TD3 2x44, old French card 2x36)",
    "mrz_characters": "the MRZ contains characters outside A-Z, 0-9 and <",
    "mrz_check_digit": "an MRZ check digit is wrong (per-field validity in the checks)",
    "mrz_date_invalid": "an MRZ date does not exist",
    "mrz_field_invalid": "an MRZ field has an impossible value (e.g. sex)",
    "mrz_invalid": "the MRZ is missing or invalid, so the cross-check cannot be made",
    "mrz_document_mismatch": "the MRZ read is another document's (format or issuing state) than the card type seen",
    "mrz_surname_mismatch": "the printed surname does not match the MRZ",
    "mrz_given_names_mismatch": "the printed given names do not match the MRZ",
    "mrz_birth_date_mismatch": "the printed birth date does not match the MRZ",
    "mrz_sex_mismatch": "the printed sex does not match the MRZ",
    "mrz_document_number_mismatch": "the printed document number does not match the MRZ",
    "mrz_expiry_mismatch": "the printed expiry date does not match the MRZ",
    "printed_field_unreadable": "a printed field needed for the check could not be read",
    "expiry_unknown": "the validity date of the document cannot be established",
    "nir_invalid": "the social security number (NIR) is not valid",
    "nir_length": "the NIR must have 15 characters (13 digits and a 2-digit key)",
    "nir_characters": "the NIR may hold only digits (and 2A/2B as the Corsican département)",
    "nir_sex": "the NIR's first digit (sex) is not 1 or 2 (or 3, 4, 7, 8 for provisional numbers)",
    "nir_month": "the NIR's birth month does not exist",
    "nir_key": "the NIR's 2-digit key does not match the number",
    "nir_not_found": "no valid NIR could be read on the carte Vitale",
    "nir_sex_mismatch": "the sex in the NIR differs from the identity document's",
    "nir_birth_mismatch": "the birth year or month in the NIR differs from the identity document's",
    "account_name_mismatch": "the names on the document differ from the account holder's",
    "ocr_engine_unavailable": "no OCR engine (tesserocr or pytesseract with tesseract) is installed",
}

# --- liveness (liveness/) --------------------------------------------------------
_LIVENESS: dict[str, str] = {
    "no_face_clip": "no face could be tracked in the clip",
    "face_lost": "the face was out of view or untrackable for too much of the clip",
    "multiple_faces": "more than one face of comparable size in the clip",
    "no_blink": "no eye blink seen (eye aspect ratio never dipped below the person's open-eye baseline)",
    "no_head_motion": "too little head movement to judge the 3-D structure of the face",
    "planar_motion": "the face moved like a flat picture (one homography explains the landmark motion)",
    "screen_replay": "screen cues on the face (pixel grid / moire peaks, clipped backlit glare)",
    "print_attack": "a prop's border (paper sheet or device) frames the face all around and moves with it",
    "identity_changed": "the face does not show the same person throughout the clip",
    "frozen_frames": "a long run of identical frames (frozen or still-image injection)",
    "looped_frames": "a run of frames repeats an earlier run (looped video)",
    "timestamps_invalid": "frame timestamps go backwards, repeat or jump (edited or injected stream)",
    "scene_cut": "the clip cuts between shots: an edited video, not one continuous capture (hint only)",
    "virtual_camera_hint": "container metadata typical of a virtual camera or video editor (hint only)",
    "audio_mismatch": "voice energy and mouth opening do not move together",
    "challenge_invalid": "the challenge token is forged, expired, malformed or already used",
    "challenge_failed": "the challenge actions were not all performed in order inside the time window",
}

# --- activation flow (flow/, verify.py) ---------------------------------------------
_FLOW: dict[str, str] = {
    "invalid_transition": "the activation is not in a state that accepts this event",
    "activation_not_found": "no activation with that id",
    "activation_expired": "the activation was not completed in time and has expired",
    "concurrent_update": "the activation was changed by another request at the same time; retry",
    "schema_too_new": "the flow database was written by a newer idverify (unknown schema version)",
    "terms_version_missing": "the version of the accepted terms of use is missing",
    "departement_invalid": "not a French département code (01-95, 2A, 2B, 971-976)",
    "departement_not_eligible": "the département is not (yet) eligible for the carte Vitale numérique",
    "account_not_found": "no online insurance account for that login",
    "account_email_missing": "the online account has no e-mail address to send the code to",
    "carte_vitale_unreadable": "no valid NIR could be read off the carte Vitale image",
    "nir_account_mismatch": "the NIR does not match the one recorded on the online account",
    "email_code_format": "the e-mail code must be exactly 6 digits",
    "email_code_not_sent": "no e-mail code was sent yet (request one first)",
    "email_code_expired": "the e-mail code has expired (request a new one)",
    "email_code_wrong": "the e-mail code is wrong",
    "email_code_locked": "too many wrong e-mail codes: the activation is locked",
    "email_resend_too_soon": "a new e-mail code was requested too soon after the last one",
    "email_send_limit": "the maximum number of e-mail codes for this activation was reached",
    "mail_send_failed": "the e-mail could not be sent (mail server error); nothing changed, retry",
    "evidence_missing": "one of recto, verso, tilted or video is missing or empty",
    "identity_failed": "the identity evidence did not pass the automated checks",
    "identity_attempts_exhausted": "the maximum number of identity evidence submissions was reached",
    "identity_attempt_in_progress": "an identity evidence submission is already being checked",
    "identity_attempt_interrupted": "an identity evidence check was interrupted (crash or timeout)",
    "secret_code_format": "the secret code must be exactly 6 digits",
    "secret_code_repeated": "the secret code repeats a digit or a short pattern (111111, 121212, 123123)",
    "secret_code_sequential": "the secret code is a sequence (123456, 654321, 890123)",
    "secret_code_palindrome": "the secret code reads the same backwards (123321)",
    "secret_code_common": "the secret code is among the most common codes",
    "secret_code_birth_date": "the secret code is the holder's birth date in some form",
    "reviewer_missing": "the reviewer's identity is missing",
    "review_reason_missing": "a review decision needs a reason",
    "locked_by_operator": "an operator locked the activation",
    "abandoned_by_user": "the user gave up the activation",
}


def _merge(*tables: Mapping[str, str]) -> Mapping[str, str]:
    merged: dict[str, str] = {}
    for table in tables:
        for code, text in table.items():
            if code in merged:
                raise RuntimeError(f"reason code defined twice: {code}")
            merged[code] = text
    return MappingProxyType(merged)


REASONS: Mapping[str, str] = _merge(_INPUT, _FACE, _DOCUMENT, _OCR, _LIVENESS, _FLOW)


def describe(code: str) -> str:
    """The human description of a reason code (``KeyError`` if unknown)."""
    return REASONS[code]


def markdown_table() -> str:
    """The table as Markdown (docs/REASONS.md is generated from it)."""
    rows = ["| code | meaning |", "|---|---|"]
    rows += [f"| `{code}` | {text} |" for code, text in sorted(REASONS.items())]
    return "\n".join(rows) + "\n"


if __name__ == "__main__":  # python -m idverify.reasons > docs/REASONS.md
    print("# Reason codes\n\nGenerated from `idverify/reasons.py` by `python -m idverify.reasons > docs/REASONS.md`;"
          " a test keeps the two equal.\n")
    print(markdown_table(), end="")
