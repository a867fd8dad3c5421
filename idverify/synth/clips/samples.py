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
    return entries
