"""Turn a batch report (storage.repository.batch_report) into what people read: an HTML
gallery, a results table and a markdown summary. Pure functions of the report dict."""
from __future__ import annotations

import html
import os
import re
from collections import Counter
from pathlib import Path

from clipmill.qa.types import CheckKind
from clipmill.statuses import JobStatus
from clipmill.storage.files import is_url

STATUS_COLOURS = {JobStatus.ACCEPTED: "#1b7f3b", JobStatus.FAILED: "#b3261e", JobStatus.REJECTED: "#8a5a00",
                  JobStatus.ERROR: "#6b1f8a", JobStatus.INTERRUPTED: "#555555"}


def _last_artifact(job: dict, *kinds: str) -> str | None:
    for artifact in reversed(job.get("artifacts", [])):
        if artifact.get("kind") in kinds:
            return artifact.get("path")
    return None


def _relative(path: str | None, base_dir: str | Path) -> str | None:
    """A link from the gallery in `base_dir` (a folder or a store URL) to an artifact.

    Relative when both sit in the same store, so the gallery works wherever the store is read
    (a local folder, a bucket served over HTTP); the absolute path or URL otherwise."""
    if not path:
        return None
    base = str(base_dir).rstrip("/")
    if is_url(path) or is_url(base):
        return path[len(base) + 1:] if path.startswith(base + "/") else path
    try:
        return Path(os.path.relpath(path, base)).as_posix()
    except ValueError:  # another drive on Windows
        return path


def failure_reasons(job: dict) -> list[str]:
    """The reasons of the job's last attempt, or the job's own reason (gate, bad input)."""
    attempts = job.get("attempts") or []
    if attempts:
        last = attempts[-1]
        reasons = [c["reason"] for c in last.get("checks", []) if not c.get("passed")]
        if last.get("error"):
            reasons.append(last["error"])
        if reasons:
            return reasons
    return [job["reason"]] if job.get("reason") else []


# What a failed check means, by its kind: the cause a person acts on.
CAUSES = {
    CheckKind.GATE: "image and prompt do not match (input gate)",
    CheckKind.MOTION: "too little motion",
    CheckKind.FLICKER: "flicker",
    CheckKind.FROZEN: "frozen frames",
    CheckKind.BLACK: "black frames",
    CheckKind.SEAM: "visible seam between segments",
    CheckKind.PRESENCE: "expected subject missing",
    CheckKind.COUNT: "wrong number of subjects",
    CheckKind.VANISH: "subject vanished",
    CheckKind.INTERACTION: "interaction not seen",
    CheckKind.SUBJECT_DRIFT: "subject drifted",
    CheckKind.TEXT_VIDEO: "clip does not match the prompt",
}
# The scores the results table shows for every job.
_KEY_SCORES = (CheckKind.GATE, CheckKind.FLICKER, CheckKind.MOTION, CheckKind.TEXT_VIDEO)
_EXCEPTION_PREFIX = re.compile(r"^([A-Z]\w*(?:Error|Exception|Cancelled|Interrupt)): ")


def failure_causes(job: dict) -> list[str]:
    """Why the job ended without a clip, one cause per failed metric, named as a person would
    (CAUSES); an error is "bad input" or the exception's type (infrastructure)."""
    if job["status"] == JobStatus.REJECTED:
        return [CAUSES[CheckKind.GATE]]
    if job["status"] == JobStatus.ERROR:
        found = _EXCEPTION_PREFIX.match(job.get("reason") or "")
        return [f"error: {found.group(1)}" if found else "bad input"]
    attempts = job.get("attempts") or []
    failed = [c for c in (attempts[-1].get("checks", []) if attempts else []) if not c.get("passed")]
    causes = [CAUSES.get(c["kind"], f"{c['stage']} {c['metric']}") for c in failed]
    return list(dict.fromkeys(causes)) or ([job["status"]] if job["status"] != JobStatus.ACCEPTED else [])


def yield_by(report: dict, field: str) -> dict[str, tuple[int, int]]:
    """(accepted, jobs) for each value of a job parameter (`template`) or of its keyword's
    source (`source`, from the trending poller's record)."""
    groups: dict[str, list[int]] = {}
    for job in report.get("jobs", []):
        value = (job.get("params") or {}).get(field) if field != "source" else job.get("keyword_source")
        if value:
            counts = groups.setdefault(str(value), [0, 0])
            counts[0] += job["status"] == JobStatus.ACCEPTED
            counts[1] += 1
    return {value: (accepted, total) for value, (accepted, total) in groups.items()}


def _number(value: float | None) -> str:
    return "n/a" if value is None else format(value, ".4g")


def _key_scores(job: dict) -> dict[str, float]:
    attempts = job.get("attempts") or []
    if not attempts:
        return {}
    return {c["metric"]: c["value"] for c in attempts[-1].get("checks", [])
            if c["kind"] in _KEY_SCORES and c["value"] is not None}


def results_table(report: dict) -> list[dict]:
    """One row per job for the Prefect table artifact and `clipmill report`."""
    rows = []
    for job in report.get("jobs", []):
        scores = _key_scores(job)
        rows.append({
            "job": job["key"],
            "status": job["status"],
            "attempts": len(job.get("attempts") or []),
            "scores": ", ".join(f"{k}={v:.3g}" for k, v in scores.items()),
            "reason": "; ".join(failure_reasons(job)) if job["status"] != JobStatus.ACCEPTED else "",
            "clip": _last_artifact(job, "clip") or "",
        })
    return rows


def prompt_cuts(report: dict) -> dict[str, list[dict]]:
    """Job key -> the texts its encoders did not read to the end (kept with its plan by the clip
    flow), for jobs that had any."""
    return {job["key"]: list((job.get("plan") or {}).get("prompt_cuts") or [])
            for job in report.get("jobs", []) if (job.get("plan") or {}).get("prompt_cuts")}


def stage_seconds(report: dict) -> dict[str, float]:
    """Seconds spent in each stage over every attempt of the batch."""
    totals: Counter = Counter()
    for job in report.get("jobs", []):
        for attempt in job.get("attempts") or []:
            totals.update(attempt.get("timings") or {})
    return {stage: round(seconds, 2) for stage, seconds in totals.most_common()}


_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]()!|#~{}<>])")


def markdown_text(text: object) -> str:
    """Text from a spec, a feed or a file name as plain markdown text: no link, image, table
    cell break or HTML can come out of it (the dashboard renders markdown as HTML)."""
    one_line = " ".join(html.escape(str(text), quote=False).split())
    return _MARKDOWN_SPECIALS.sub(r"\\\1", one_line)


def render_markdown_summary(report: dict, *, gallery: str | Path | None = None) -> str:
    counts = report.get("counts", {})
    jobs = report.get("jobs", [])
    attempts = sum(len(j.get("attempts") or []) for j in jobs)
    accepted = counts.get(JobStatus.ACCEPTED, 0)
    causes = Counter(cause for j in jobs if j["status"] != JobStatus.ACCEPTED for cause in failure_causes(j))
    lines = [f"# clipmill batch {markdown_text(report['name'])}", ""]
    if report.get("random_weights"):
        lines += ["> **Random-weight models.** The generator, CLIP and/or YOLO ran with random weights: "
                  "clips are noise and scores are not meaningful. This run exercises the pipeline only.", ""]
    lines += [
        f"- jobs: {len(jobs)} — " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()) if v),
        f"- yield: {accepted} accepted of {attempts} attempts",
    ]
    if gallery:
        lines.append(f"- gallery: {markdown_text(gallery)}")
    stages = stage_seconds(report)
    if stages:
        lines.append("- seconds by stage: " + ", ".join(f"{k} {v:.1f}" for k, v in stages.items()))
    if accepted and "generate" in stages:
        # Every attempt's generation counts, failed ones too: that is what an accepted clip costs.
        lines.append(f"- generation seconds per accepted clip: {stages['generate'] / accepted:.1f}")
    if causes:
        lines += ["", "| failure cause | jobs |", "|---|---|"]
        # Causes can quote metric names from a spec: escaped, as the dashboard renders markdown as HTML.
        lines += [f"| {markdown_text(c)} | {n} |" for c, n in causes.most_common()]
    cut = prompt_cuts(report)
    if cut:
        # A prompt the encoders cut makes a clip of its first part only: the person who wrote it
        # must see that here, not only in a console nobody watched.
        lines += ["", "| job | text cut by | kept of given (tokens, about) | kept of given (characters) |",
                  "|---|---|---|---|"]
        lines += [f"| {markdown_text(key)} | {markdown_text(c['text'] + ': ' + c['encoder'])} | "
                  f"{c['tokens_kept']} of {c['tokens_given']} | {c['characters_kept']} of {c['characters_given']} |"
                  for key, cuts in cut.items() for c in cuts]
    for field, title in (("template", "template"), ("source", "keyword source")):
        groups = yield_by(report, field)
        if groups:
            lines += ["", f"| {title} | accepted | jobs |", "|---|---|---|"]
            lines += [f"| {markdown_text(v)} | {a} | {t} |" for v, (a, t) in sorted(groups.items())]
    return "\n".join(lines) + "\n"


def render_gallery(report: dict, *, base_dir: str | Path) -> str:
    """A self-contained HTML page, to be stored in `base_dir` (a folder or an artifact store
    URL): one card per job with poster or video and every verdict. Everything that came from
    a spec or a model is escaped."""
    esc = html.escape
    cards = []
    for job in report.get("jobs", []):
        status = job["status"]
        clip = _relative(_last_artifact(job, "clip"), base_dir)
        poster = _relative(_last_artifact(job, "poster", "attempt_poster", "prepared_image"), base_dir)
        if clip:
            media = (f'<video controls preload="metadata" src="{esc(clip)}"'
                     + (f' poster="{esc(poster)}"' if poster else "") + "></video>")
        elif poster:
            media = f'<img src="{esc(poster)}" alt="last frame of {esc(job["key"])}">'
        else:
            media = '<div class="empty">no frames</div>'
        attempts_html = []
        for attempt in job.get("attempts") or []:
            checks = "".join(
                f'<li class="{"ok" if c["passed"] else "bad"}">{esc(c["stage"])}/{esc(c["metric"])} = '
                f'{_number(c["value"])}{"" if c.get("threshold") is None else " (limit " + _number(c["threshold"]) + ")"}'
                f' — {esc(c["reason"])}</li>'
                for c in attempt.get("checks", [])
            )
            events = "".join(f'<li class="event">{esc(e["kind"])}/{esc(e["action"])} — {esc(e["reason"])}</li>'
                             for e in attempt.get("events", []))
            error = f'<p class="bad">{esc(attempt["error"])}</p>' if attempt.get("error") else ""
            attempts_html.append(
                f'<details><summary>attempt {attempt["number"]}: {esc(attempt["status"])} (seed {attempt["seed"]})</summary>'
                f"{error}<ul>{checks}{events}</ul></details>"
            )
        reasons = "".join(f"<li>{esc(r)}</li>" for r in failure_reasons(job)) if status != JobStatus.ACCEPTED else ""
        cards.append(
            f'<article class="card" data-status="{esc(status)}">{media}'
            f'<h2>{esc(job["key"])} <span class="status" style="background:{STATUS_COLOURS.get(status, "#555")}">'
            f"{esc(status)}</span></h2><p>{esc(job.get('prompt') or '')}</p>"
            f'<ul class="reasons">{reasons}</ul>{"".join(attempts_html)}</article>'
        )
    banner = ('<p class="banner">Random-weight models: the generator, CLIP and/or YOLO ran with random weights. '
              "Clips are noise and scores are not meaningful; this run exercises the pipeline only.</p>"
              if report.get("random_weights") else "")
    statuses = sorted({j["status"] for j in report.get("jobs", [])})
    buttons = "".join(f'<button data-filter="{esc(s)}">{esc(s)}</button>' for s in ["all", *statuses])
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>clipmill — {esc(report['name'])}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2rem;background:#fafafa;color:#222}}
.grid{{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:1rem}}
.card{{background:#fff;border:1px solid #ddd;border-radius:8px;padding:1rem;overflow-wrap:anywhere}}
.card video,.card img{{width:100%;border-radius:4px;background:#000}}
.status{{color:#fff;border-radius:4px;padding:0 .4rem;font-size:.8rem}}
.ok{{color:#1b7f3b}} .bad{{color:#b3261e}} .event{{color:#555;font-style:italic}} .banner{{background:#fff3cd;padding:.75rem;border-radius:6px}}
.empty{{height:120px;background:#eee;display:flex;align-items:center;justify-content:center}}
li{{font-size:.85rem}} h2{{font-size:1.05rem}}
</style></head><body>
<h1>clipmill batch {esc(report['name'])}</h1>{banner}
<p>{esc(', '.join(f'{k}: {v}' for k, v in sorted(report.get('counts', {}).items()) if v))}</p>
<nav>{buttons}</nav>
<section class="grid">{''.join(cards)}</section>
<script>
// Mark each video once it has decoded a frame: a headless browser check reads this.
document.querySelectorAll('video').forEach(v => v.addEventListener('loadeddata', () => {{ v.dataset.loaded = '1'; }}));
document.querySelectorAll('nav button').forEach(b => b.addEventListener('click', () => {{
  document.querySelectorAll('.card').forEach(c => {{
    c.style.display = (b.dataset.filter === 'all' || c.dataset.status === b.dataset.filter) ? '' : 'none';
  }});
}}));
</script>
</body></html>
"""
