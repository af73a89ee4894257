"""One job's card for the Prefect dashboard: what a person looks at to see how a clip ended
without opening the gallery. A pure function of the job's report (storage.reports.job_report)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from clipmill.report import markdown_text
from clipmill.statuses import JobStatus

STATUS_TITLES = {JobStatus.ACCEPTED: "Accepted", JobStatus.FAILED: "QA failed", JobStatus.REJECTED: "Rejected at the gate",
                 JobStatus.ERROR: "Error", JobStatus.CANCELLED: "Cancelled", JobStatus.INTERRUPTED: "Interrupted"}


@dataclass(frozen=True)
class JobCard:
    markdown: str
    poster: str | None  # the image shown (a browser's URL), if the job made or was given one
    clip: str | None  # the clip it links to (a browser's URL), if it made one


def job_files(job: dict) -> tuple[str | None, str | None]:
    """(poster, clip) as stored: the accepted clip and its poster; else the last attempt's MP4
    and poster; else the prepared input image (a gate rejection) and no clip."""
    artifacts = job.get("artifacts") or []
    if job.get("status") == JobStatus.ACCEPTED:
        kinds = {a["kind"]: a["path"] for a in artifacts if a["attempt"] is None}
        if kinds.get("poster") or kinds.get("clip"):
            return kinds.get("poster"), kinds.get("clip")
    last = max((a["number"] for a in job.get("attempts") or []), default=None)
    # The last of a kind for the last attempt: a repaired version comes after the first.
    of_last = {a["kind"]: a["path"] for a in artifacts if a["attempt"] == last}
    poster, clip = of_last.get("attempt_poster"), of_last.get("attempt_clip")
    if poster is None:
        poster = next((a["path"] for a in reversed(artifacts) if a["kind"] == "prepared_image"), None)
    return poster, clip


def render_job_card(job: dict, browser_url: Callable[[str], str]) -> JobCard:
    """Title, poster, status, reason, attempts and seed, and a link that opens the clip;
    `browser_url` turns a stored path or URL into one a browser opens."""
    poster, clip = (browser_url(path) if path else None for path in job_files(job))
    attempts = job.get("attempts") or []
    shown = next((a for a in attempts if a["number"] == job.get("accepted_attempt")), attempts[-1] if attempts else None)
    status = job.get("status", "")
    reason = job.get("reason") or (f"accepted on attempt {shown['number']}" if status == JobStatus.ACCEPTED and shown else "")
    key = markdown_text(job["key"])
    lines = [f"### {key}: {STATUS_TITLES.get(status, markdown_text(status))}", ""]
    if poster:
        what = "input image" if poster.endswith("input.png") else "last frame"
        lines += [f"![{what} of {key}]({poster})", ""]
    lines += ["| status | reason | attempts | seed |", "|---|---|---|---|",
              f"| {markdown_text(status)} | {markdown_text(reason) or '-'} | {len(attempts)} | "
              f"{shown['seed'] if shown else '-'} |", ""]
    if clip:
        lines.append(f"[Open the clip]({clip})" if status == JobStatus.ACCEPTED
                     else f"[Open the clip of attempt {shown['number']}]({clip})")
    return JobCard("\n".join(lines).rstrip() + "\n", poster, clip)


def render_contact_sheet(report: dict, browser_url: Callable[[str], str]) -> str:
    """Every job of the batch on one markdown page: poster, status and reason, a link to the
    clip. The batch run's own artifacts are what its page shows; the cards live in the jobs'
    runs, so this puts every clip in front of the person looking at the batch."""
    lines = [f"## {markdown_text(report.get('name', 'batch'))}: every clip", "",
             "| job | poster | status | reason | attempts | clip |", "|---|---|---|---|---|---|"]
    for job in report.get("jobs", []):
        card = render_job_card(job, browser_url)
        key = markdown_text(job["key"])
        reason = markdown_text(job.get("reason") or "") or "-"
        poster = f"![{key}]({card.poster})" if card.poster else "-"
        clip = f"[open]({card.clip})" if card.clip else "-"
        lines.append(f"| {key} | {poster} | {markdown_text(job.get('status', ''))} | {reason} | "
                     f"{len(job.get('attempts') or [])} | {clip} |")
    return "\n".join(lines) + "\n"
