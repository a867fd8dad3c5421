"""The demo's HTML evidence report: what a reviewer would look at, in one self-contained page.

Card crops, MRZ lines and fields, the card portrait beside the clip frames
that decided the face comparison with their distance, liveness cues and
curves, and every check with its score, threshold and reason.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1200px}
h1{font-size:1.5em}h2{border-bottom:2px solid #ccc;padding-bottom:.2em;margin-top:2em}h3{margin-top:1.5em}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}
td,th{border:1px solid #ddd;padding:.25em .5em;text-align:left}
th{background:#f4f4f4}.ok{color:#11772a;font-weight:600}.ko{color:#b00020;font-weight:600}
.imgs{display:flex;flex-wrap:wrap;gap:.8em;align-items:flex-end}.imgs figure{margin:0}
.imgs img{max-height:220px;border:1px solid #ccc}figcaption{font-size:.8em;color:#555}
pre{background:#f7f7f7;padding:.5em;font-size:1.05em;letter-spacing:.08em}
"""


def _esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return _esc(value)


def _status(ok: bool) -> str:
    return '<span class="ok">passed</span>' if ok else '<span class="ko">failed</span>'


def _img(data: bytes, caption: str) -> str:
    encoded = base64.b64encode(data).decode("ascii")
    return (f'<figure><img src="data:image/jpeg;base64,{encoded}" alt="{_esc(caption)}">'
            f"<figcaption>{_esc(caption)}</figcaption></figure>")


def _checks_table(checks: Sequence[Mapping[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td>{_esc(c['name'])}</td><td>{_status(bool(c['passed']))}</td><td>{_esc(c.get('reason'))}</td>"
        f"<td>{_fmt(c.get('score'))}</td><td>{_fmt(c.get('threshold'))}</td></tr>" for c in checks)
    return ("<table><tr><th>check</th><th>result</th><th>reason</th><th>score</th><th>threshold</th></tr>"
            f"{rows}</table>")


def _polyline(times: Sequence[float], values: Sequence[float | None], width: int, height: int,
              lo: float, hi: float, colour: str) -> str:
    if not times:
        return ""
    t0, t1 = times[0], max(times[-1], times[0] + 1e-6)
    points = []
    for t, v in zip(times, values, strict=False):
        if v is None:
            continue
        x = (t - t0) / (t1 - t0) * width
        y = height - (min(max(v, lo), hi) - lo) / (hi - lo) * height
        points.append(f"{x:.1f},{y:.1f}")
    return f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{" ".join(points)}"/>'


def _curves(series: Mapping[str, Any]) -> str:
    """Eye openness and head yaw over the clip, as inline SVG."""
    times = series.get("t") or []
    if not times:
        return ""
    width, height = 600, 120
    parts = []
    for key, label, lo, hi, colour in (("ear", "eye aspect ratio", 0.0, 0.45, "#1f77b4"),
                                       ("yaw", "head yaw (degrees)", -40.0, 40.0, "#d62728"),
                                       ("pitch", "head pitch (degrees)", -40.0, 40.0, "#2ca02c")):
        if key not in series:
            continue
        parts.append(f"<div><small>{label} ({lo:g} … {hi:g}) over {times[-1] - times[0]:.1f} s</small><br>"
                     f'<svg width="{width}" height="{height}" style="border:1px solid #ddd">'
                     f"{_polyline(times, series[key], width, height, lo, hi, colour)}</svg></div>")
    return "".join(parts)


def _attempt(n: int, record: Mapping[str, Any]) -> str:
    report = record["report"]
    images: Mapping[str, bytes] = record.get("images", {})
    sections = report.get("sections", {})
    out = [f"<h3>Identity attempt {n}: {_status(bool(report.get('passed')))}</h3>"]
    if report.get("reasons"):
        out.append(f"<p>Reasons: <b>{_esc(', '.join(report['reasons']))}</b></p>")
    cards = [(k, v) for k, v in images.items() if k.startswith("document/")]
    if cards:
        out.append('<div class="imgs">' + "".join(_img(v, k.removeprefix("document/")) for k, v in cards) + "</div>")
    mrz = sections.get("mrz")
    if mrz:
        out.append(f"<p>MRZ ({_esc(mrz.get('format'))}, {'valid' if mrz.get('valid') else 'invalid'})</p>"
                   f"<pre>{'<br>'.join(_esc(line) for line in mrz.get('lines', []))}</pre>")
        fields = mrz.get("fields", {})
        printed = (sections.get("printed_fields") or {}).get("fields", {})
        keys = sorted(set(fields) | set(printed))
        rows = "".join(f"<tr><td>{_esc(k)}</td><td>{_esc(printed.get(k))}</td><td>{_esc(fields.get(k))}</td></tr>"
                       for k in keys)
        out.append(f"<table><tr><th>field</th><th>printed (recto)</th><th>MRZ</th></tr>{rows}</table>")
    face = sections.get("face")
    faces = [(k, v) for k, v in images.items() if k.startswith("face/")]
    portrait = images.get("document/recto/portrait")
    if face:
        out.append(f"<p>Face comparison: distance <b>{_fmt(face.get('distance'))}</b> against threshold "
                   f"{_fmt(face.get('threshold'))} ({'match' if face.get('match') else 'no match'}); "
                   f"frame distances {', '.join(_fmt(d) for d in face.get('frame_distances') or [])}; "
                   f"engine {_esc(face.get('engine'))}</p>")
        strip = ([_img(portrait, "card portrait")] if portrait else []) + [_img(v, k) for k, v in faces]
        out.append('<div class="imgs">' + "".join(strip) + "</div>")
    live = sections.get("liveness")
    if live:
        out.append(f"<p>Liveness: {'live' if live.get('live') else 'not live'}, score {_fmt(live.get('score'))} "
                   f"(threshold {_fmt(live.get('threshold'))}); reasons {_esc(live.get('reasons'))}; "
                   f"hints {_esc(live.get('hints'))}</p>")
        out.append(_curves((live.get("details") or {}).get("series") or {}))
    out.append(_checks_table(report.get("checks", [])))
    return "".join(out)


def write_html_report(path: Path, *, steps: Sequence[Mapping[str, Any]],
                      attempts: Mapping[str, Sequence[Mapping[str, Any]]], outcomes: Mapping[str, str],
                      expected: Mapping[str, str]) -> None:
    """Write the self-contained HTML page to ``path``."""
    body = ["<h1>idverify demo — carte Vitale activations</h1>",
            "<p>Synthetic, fictional personas on public-domain portraits. "
            "This page embeds biometric crops: delete it after reading.</p>",
            "<table><tr><th>persona</th><th>final state</th><th>expected</th></tr>"]
    for persona, state in outcomes.items():
        ok = state == expected.get(persona)
        body.append(f"<tr><td>{_esc(persona)}</td><td class=\"{'ok' if ok else 'ko'}\">{_esc(state)}</td>"
                    f"<td>{_esc(expected.get(persona))}</td></tr>")
    body.append("</table><h2>Steps</h2><table><tr><th>persona</th><th>step</th><th>result</th><th>state after</th>"
                "<th>ms</th><th>note</th></tr>")
    for s in steps:
        result = '<span class="ok">ok</span>' if s["ok"] else f'<span class="ko">{_esc(s["reason"])}</span>'
        body.append(f"<tr><td>{_esc(s['persona'])}</td><td>{_esc(s['step'])}</td><td>{result}</td>"
                    f"<td>{_esc(s['state'])}</td><td>{s['ms']:.0f}</td><td>{_esc(s.get('note'))}</td></tr>")
    body.append("</table>")
    for persona, records in attempts.items():
        body.append(f"<h2>Persona “{_esc(persona)}”: evidence</h2>")
        body += [_attempt(n, record) for n, record in enumerate(records, start=1)]
    page = (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>idverify demo</title>"
            f"<style>{_CSS}</style></head><body>{''.join(body)}</body></html>")
    path.write_text(page, encoding="utf-8")
