"""The committed set of selfie clips (``samples/clips/``) and its index entries."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import shutil
from pathlib import Path
from typing import Any

from idverify.synth.clips.generate import BONA_FIDE, GeneratedClip, make_attack_clip, make_bona_fide_clip, save_clip


@dataclasses.dataclass(frozen=True)
class ClipPlan:
    """One clip of the committed set."""

    id: str
    kind: str  # "bona_fide" or an attack type
    portrait: str
    size: tuple[int, int]  # (width, height)
    fps: float
    duration: float
    persona: str | None = None  # the documents set's persona whose card this face is on

    def build(self, seed: int) -> GeneratedClip:
        if self.kind == BONA_FIDE:
            return make_bona_fide_clip(self.portrait, seed, size=self.size, fps=self.fps, duration=self.duration)
        return make_attack_clip(self.kind, seed, portrait=self.portrait, size=self.size, fps=self.fps,
                                duration=self.duration)


#: The committed set: two bona fide clips per portrait, one clip per attack type.
PLAN: tuple[ClipPlan, ...] = (
    ClipPlan("bona_fide_astronaut_1", BONA_FIDE, "astronaut", (720, 960), 30.0, 4.0, persona="genuine"),
    ClipPlan("bona_fide_astronaut_2", BONA_FIDE, "astronaut", (480, 640), 25.0, 4.0, persona="genuine"),
    ClipPlan("bona_fide_grace_hopper_1", BONA_FIDE, "grace_hopper", (480, 640), 25.0, 4.0, persona="legacy"),
    ClipPlan("bona_fide_grace_hopper_2", BONA_FIDE, "grace_hopper", (480, 640), 30.0, 4.0, persona="legacy"),
    ClipPlan("attack_static_photo", "static_photo", "grace_hopper", (480, 640), 25.0, 4.0, persona="spoof"),
    ClipPlan("attack_printed_photo", "printed_photo", "grace_hopper", (720, 960), 25.0, 4.0, persona="spoof"),
    ClipPlan("attack_screen_photo", "screen_photo", "astronaut", (480, 640), 25.0, 4.0),
    ClipPlan("attack_screen_replay", "screen_replay", "astronaut", (480, 640), 25.0, 4.0, persona="genuine"),
    ClipPlan("attack_face_swap", "face_swap", "astronaut", (480, 640), 25.0, 4.0, persona="genuine"),
    ClipPlan("attack_frozen_frames", "frozen_frames", "grace_hopper", (480, 640), 25.0, 4.0),
    ClipPlan("attack_looped_frames", "looped_frames", "astronaut", (480, 640), 25.0, 4.0),
    ClipPlan("attack_two_faces", "two_faces", "astronaut", (640, 480), 25.0, 4.0),
)


def _entry(plan: ClipPlan, video: str, truth_path: str, truth: dict[str, Any]) -> dict[str, Any]:
    expected = truth["expected"]
    return {"id": plan.id, "kind": "clip", "path": video, "paths": [video], "ground_truth": truth_path,
            "expected_outcome": "pass" if expected["live"] else "fail", "attack": plan.kind,
            "attack_type": plan.kind, "reasons": list(expected["reasons"]), "portrait": plan.portrait,
            "persona": plan.persona, "width": truth["width"], "height": truth["height"], "fps": truth["fps"],
            "duration": truth["duration"], "audio": truth["audio"]}


_README_HEAD = """# Selfie clips (generated)

Written by `idverify.synth.clips.generate_clip_samples(out_dir, seed)` (called by
`idverify samples OUT --seed N`); do not edit by hand. Each `<id>.mp4` (H.264
yuv420p, AAC mono when `audio`) has its ground truth in `<id>.json`: attack type,
portrait, expected liveness outcome and reason codes (`idverify/reasons.py`),
blink intervals (seconds and frames), per-frame head pose (yaw / pitch / roll in
degrees as generated; for a print or a still screen, the pose of the plane),
eye closure and mouth opening, and attack details (swap frame, frozen or looped
frames, plane corners per frame).

Synthetic bona fide clips do not replace real ones: a portrait animated by a
program is not a live person. Liveness is evaluated first on the real clips in
`../shared/data`.

| id | kind | portrait | persona | size | fps | s | audio | expected | reasons |
|---|---|---|---|---|---|---|---|---|---|
"""


def _readme(entries: list[dict[str, Any]]) -> str:
    rows = [f"| `{e['id']}` | {e['attack_type']} | {e['portrait']} | {e['persona'] or '—'} | "
            f"{e['width']}×{e['height']} | {e['fps']:g} | {e['duration']:g} | {'yes' if e['audio'] else 'no'} | "
            f"{e['expected_outcome']} | {', '.join(e['reasons']) or '—'} |" for e in entries]
    return _README_HEAD + "\n".join(rows) + "\n"


def generate_clip_samples(out_dir: str | Path, seed: int = 0) -> list[dict[str, Any]]:
    """Write the committed clip set to ``out_dir/clips/`` (replacing it) and return its index entries.

    Each entry: ``id``, ``kind`` ("clip"), ``path`` (the MP4, relative to
    ``out_dir``), ``ground_truth`` (its JSON), ``expected_outcome`` ("pass" |
    "fail"), ``attack_type`` ("bona_fide" or the attack), ``reasons``,
    ``portrait`` and ``persona`` (the documents set's persona with that face).
    """
    root = Path(out_dir)
    folder = root / "clips"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    # ffmpeg encodes clip i (a child process, fed from a thread) while clip i + 1 renders.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pending: list[tuple[ClipPlan, concurrent.futures.Future[tuple[Path, Path]], dict[str, Any]]] = []
        for number, plan in enumerate(PLAN):
            clip = plan.build(seed * 1000 + number)
            clip.truth["id"] = plan.id
            if plan.persona:
                clip.truth["persona"] = plan.persona
            if pending:
                pending[-1][1].result()  # at most one clip waiting: bounded memory
            pending.append((plan, pool.submit(save_clip, clip, folder / f"{plan.id}.mp4"), clip.truth))
        entries = []
        for plan, future, truth in pending:
            video, truth_path = future.result()
            entries.append(_entry(plan, video.relative_to(root).as_posix(), truth_path.relative_to(root).as_posix(),
                                  truth))
    (folder / "README.md").write_text(_readme(entries), encoding="utf-8")
    return entries
