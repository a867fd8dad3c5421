"""The ``idverify`` command line.

Each subcommand prints one JSON object with ``--json`` (a short summary
otherwise) and exits with 0 when the check passed, 1 when it failed, 2 on bad
input or usage::

    idverify match card.jpg selfie.mp4 --json
    idverify mrz verso.jpg --json
    idverify nir "2 69 05 49 588 157 80"
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from idverify.errors import IdVerifyError, InputError, UsageError
from idverify.results import to_jsonable

EXIT_PASSED, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2

Outcome = tuple[bool, Any]  # (passed, result with to_dict())
Handler = Callable[[argparse.Namespace], Outcome]


def _match(args: argparse.Namespace) -> Outcome:
    from idverify.face.compare import compare_faces

    result = compare_faces(args.reference, args.probe)
    return result.match, result


def _liveness(args: argparse.Namespace) -> Outcome:
    import os

    from idverify.liveness import check_liveness

    secret = None
    if args.challenge:
        key = os.environ.get("IDVERIFY_CHALLENGE_SECRET", "")
        if not key:
            raise UsageError("usage_error", "--challenge needs the signing secret in $IDVERIFY_CHALLENGE_SECRET")
        secret = key.encode("utf-8")
    result = check_liveness(args.clip, challenge=args.challenge, secret=secret)
    return result.live, result


def _mrz(args: argparse.Namespace) -> Outcome:
    from idverify.ocr import read_mrz

    result = read_mrz(args.image)
    return result.found and result.valid, result


def _nir(args: argparse.Namespace) -> Outcome:
    from idverify.errors import InvalidNIR
    from idverify.ocr import parse_nir

    try:
        nir = parse_nir(args.number)
    except InvalidNIR as exc:  # an invalid number is a failed check (exit 1) that says what is wrong
        return False, {"valid": False, "reason": exc.reason, "message": exc.message}
    return True, {"valid": True, **nir.to_dict()}


def _vitale(args: argparse.Namespace) -> Outcome:
    from idverify.ocr import read_carte_vitale

    result = read_carte_vitale(args.image)
    return result.nir is not None, result


def _document(args: argparse.Namespace) -> Outcome:
    from idverify.document import check_document

    result = check_document(recto=args.recto, verso=args.verso, tilted=args.tilted,
                            read_fields=not args.no_fields)
    bad = next((c for c in result.checks if c.evidence.get("input_error")), None)
    if bad is not None:  # an unreadable file is bad input (exit 2), not a failed check
        raise InputError(bad.reason or "input_invalid", f"{bad.name}: {dict(bad.evidence).get('message', '')}")
    return result.passed, result


def _verify(args: argparse.Namespace) -> Outcome:
    from idverify.verify import verify_identity

    result = verify_identity(recto=args.recto, verso=args.verso, tilted=args.tilted, video=args.video,
                             nir=args.nir)
    return result.passed, result


def _samples(args: argparse.Namespace) -> Outcome:
    from idverify.synth import generate_samples

    result = generate_samples(args.out, seed=args.seed)
    return True, result


def _demo(args: argparse.Namespace) -> Outcome:
    from idverify.demo import run_demo

    result = run_demo(out=args.out, quiet=args.json)
    return result.passed, result


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="idverify", description="Remote identity verification checks.")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--json", action="store_true", help="print one JSON object")
        p.set_defaults(handler=handler)
        return p

    p = add("match", _match, "compare the face in A (image) with B (image or clip)")
    p.add_argument("reference")
    p.add_argument("probe")
    p = add("liveness", _liveness, "decide whether a selfie clip shows a live person")
    p.add_argument("clip")
    p.add_argument("--challenge", help="challenge token (secret in $IDVERIFY_CHALLENGE_SECRET)")
    p = add("mrz", _mrz, "find, read and validate the MRZ of an ID document photo")
    p.add_argument("image")
    p = add("nir", _nir, "validate and format a French social security number")
    p.add_argument("number")
    p = add("vitale", _vitale, "read the NIR and holder name from a carte Vitale photo")
    p.add_argument("image")
    p = add("document", _document, "check recto, verso and tilted photos of one ID card")
    p.add_argument("--recto", required=True)
    p.add_argument("--verso", required=True)
    p.add_argument("--tilted", required=True)
    p.add_argument("--no-fields", action="store_true", help="skip the MRZ OCR (capture checks only)")
    p = add("verify", _verify, "run every check on one identity file")
    for name in ("recto", "verso", "tilted", "video"):
        p.add_argument(f"--{name}", required=True)
    p.add_argument("--nir")
    p = add("samples", _samples, "generate the synthetic sample set")
    p.add_argument("out")
    p.add_argument("--seed", type=int, default=0)
    p = add("demo", _demo, "run complete activations on the bundled samples")
    p.add_argument("--out", default="out/demo", help="folder for the JSON and HTML reports")
    return parser


def _summary(result: Any) -> str:
    data = to_jsonable(result)
    if isinstance(data, dict):
        keys = ("passed", "match", "live", "valid", "distance", "threshold", "score", "reasons", "nir", "formatted")
        return "  ".join(f"{k}={data[k]}" for k in keys if k in data)
    return str(data)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    try:
        passed, result = args.handler(args)
    except (InputError, UsageError) as exc:
        return _fail(args, exc, EXIT_BAD_INPUT)
    except IdVerifyError as exc:
        return _fail(args, exc, EXIT_BAD_INPUT)
    if args.json:
        print(json.dumps(to_jsonable(result), ensure_ascii=False))
    else:
        print(_summary(result))
    return EXIT_PASSED if passed else EXIT_FAILED


def _fail(args: argparse.Namespace, exc: IdVerifyError, code: int) -> int:
    payload = {"error": type(exc).__name__, "reason": exc.reason, "message": exc.message}
    if getattr(args, "json", False):
        print(json.dumps(payload, ensure_ascii=False))
    else:
        print(f"error: {exc.reason}: {exc.message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
