"""`clipmill plan`, `clipmill prep` and `clipmill trending`: the inputs of a batch, tried one at
a time from the command line. Plain functions with typer annotations; cli/main.py
registers them (`app.command()(plan)` ...). Bad input exits with status 2 and one line.
"""
from __future__ import annotations

import json as json_module
import re
from pathlib import Path
from typing import List, Optional

import typer

from clipmill.cli.console import fail

TemplatesDir = typer.Option(None, "--templates", help="folder of extra template YAML files "
                                                      "[also: $CLIPMILL_TEMPLATES]")


def _load_templates(folder: Optional[Path]) -> None:
    if folder is None:
        return
    from clipmill.planning import add_templates

    try:
        add_templates(folder)
    except ValueError as error:
        fail(str(error))


def plan(
    text: str = typer.Argument(..., help="the prompt, or the keyword when --template is given"),
    template: Optional[str] = typer.Option(None, "--template", "-t", help="pour TEXT as a keyword into this template"),
    segments: int = typer.Option(1, "--segments", "-s", min=1, max=16, help="model windows the clip is made of"),
    json: bool = typer.Option(False, "--json", help="print the plan as JSON"),
    templates_dir: Optional[Path] = TemplatesDir,
) -> None:
    """Show the shot plan for a prompt (English or Chinese): subjects, actions, location,
    outcome, one prompt per segment, the expectations QA will check (each with the planner's
    confidence), those it leaves unchecked (with why), and warnings."""
    from clipmill.planning import expand_template, plan_shot

    _load_templates(templates_dir)
    try:
        prompt = expand_template(text, template) if template else text
        shot = plan_shot(prompt, segments=segments)
    except ValueError as error:
        fail(str(error))
    from clipmill.planning.explain import expectation_items, expectation_lines

    if json:
        # "expectation_items": the rules QA enforces (with the planner's confidence) and those left unchecked (why)
        typer.echo(json_module.dumps({**shot.to_dict(), "expectation_items": expectation_items(shot.expectations)},
                                     ensure_ascii=False, indent=2))
        return
    expectations = shot.expectations
    typer.echo(f"language:      {shot.language}")
    typer.echo(f"subjects:      {', '.join(shot.subjects) or '-'}")
    typer.echo(f"initial state: {shot.initial_state or '-'}")
    for number, action in enumerate(shot.actions, start=1):
        typer.echo(f"action {number}:      {action}")
    typer.echo(f"location:      {shot.location or '-'}")
    typer.echo(f"outcome:       {shot.outcome or '-'}")
    classes = ", ".join([f"{name} x{count}" for name, count in expectations.classes.items()]
                        + [f"{name} (any number)" if fewest == 1 else f"{name} x{fewest} or more"
                           for name, fewest in expectations.at_least.items()]) or "-"
    typer.echo(f"QA expects:    {classes}; interaction: {expectations.interaction or '-'}"
               + (f" ({' -> '.join(expectations.subjects)})" if expectations.subjects else ""))
    forbidden = ", ".join(expectations.forbidden)
    typer.echo(f"absent:        {', '.join(shot.absent) or '-'}"
               + (f" (QA fails a clip in which it sees {forbidden})" if forbidden else ""))
    for line in expectation_lines(expectations):  # each rule with its confidence; the unchecked ones with why
        typer.echo(f"  {line}")
    typer.echo(f"not in COCO:   {', '.join(shot.open_vocabulary) or '-'}"
               + (" (not checkable by the COCO detector; QA checks them when models.open_vocab_detector is set)"
                  if expectations.open_vocabulary else ""))
    for label, value in (("camera:", shot.camera), ("look:", shot.look)):
        shown = ", ".join(value) if isinstance(value, (list, tuple)) else value
        typer.echo(f"{label:<15}{shown or '-'}")
    for number, segment in enumerate(shot.segment_prompts, start=1):
        typer.echo(f"segment {number}:     {segment}")
    for note in shot.notes:
        typer.echo(f"note: {note}")
    for warning in shot.warnings:
        typer.secho(f"warning: {warning}", fg=typer.colors.YELLOW)


def _size(value: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", value or "")
    if not match:
        fail(f"--size {value!r}: write WIDTHxHEIGHT, e.g. 832x480")
    width, height = int(match.group(1)), int(match.group(2))
    if width % 16 or height % 16 or not (16 <= width <= 4096 and 16 <= height <= 4096):
        # The same rule as a batch spec's width/height: Wan's VAE and patching need it.
        fail(f"--size {value}: width and height must be multiples of 16 between 16 and 4096")
    return width, height


def prep(
    image: Path = typer.Argument(..., help="the photo to prepare"),
    output: Path = typer.Option(..., "--output", "-o", help="the PNG to write"),
    size: str = typer.Option("832x480", "--size", help="WIDTHxHEIGHT of the model's frames"),
    crop: str = typer.Option("center", "--crop", help="center, or subject (centred on the detected subject)"),
    detector: str = typer.Option("yolov8n.pt", "--detector", help="YOLO weights for --crop subject "
                                                                  "(a local .pt file, or 'random')"),
    subject: Optional[str] = typer.Option(None, "--subject", help="COCO class to centre on, e.g. dog "
                                                                  "[default: the largest detection]"),
    trust_sha256: Optional[str] = typer.Option(None, "--trust-sha256", metavar="SHA",
                                               help="the sha256 the --detector file must have to be loaded "
                                                    "(a .pt file can run code) [also: a registry YAML in "
                                                    "$CLIPMILL_TRUSTED_WEIGHTS]"),
) -> None:
    """Prepare one reference image as a batch would: EXIF orientation, alpha flattened,
    colour normalised, scaled and cropped to --size, saved as PNG."""
    from clipmill.imaging import ImageInputError, prepare_image

    width, height = _size(size)
    if crop not in ("center", "subject"):
        fail(f"--crop {crop!r}: use center or subject")
    box, note = None, None
    if crop == "subject":
        from clipmill.subject import find_subject
        from clipmill.models.trust import UntrustedWeightsError, command_line_pins

        try:
            trusted = command_line_pins([detector], [trust_sha256] if trust_sha256 else [])
            box, note = find_subject(image, detector, [subject] if subject else [], trusted=trusted)
        except UntrustedWeightsError as error:
            fail(error.command_line_message())
        except ValueError as error:  # a malformed --trust-sha256, an unusable registry file
            fail(str(error))
    try:
        prepared = prepare_image(image, output, width=width, height=height, crop=crop, subject_box=box)
    except (ImageInputError, ValueError) as error:
        fail(str(error))
    typer.echo(f"{prepared.path}: {width}x{height} from {prepared.original_size[0]}x{prepared.original_size[1]} "
               f"{prepared.mode}" + (", EXIF-rotated" if prepared.exif_rotated else ""))
    if crop == "subject":
        typer.echo(f"subject: {note}" + ("" if box else "; cropped around the centre"))


def trending(
    source: List[str] = typer.Option(..., "--source", help="http(s) URL or local file/folder; repeatable. "
                                                           "Options after '#': path= (JSON), column= (CSV)"),
    template: List[str] = typer.Option(["trending-short"], "--template", "-t", help="template per keyword; repeatable"),
    dry_run: bool = typer.Option(False, "--dry-run", help="show the jobs; start nothing, record nothing"),
    json: bool = typer.Option(False, "--json", help="machine-readable output"),
    blocklist: Optional[Path] = typer.Option(None, "--blocklist", help="word-list file: one term a line"),
    allowlist: Optional[Path] = typer.Option(None, "--allowlist", help="word-list file: keep only keywords "
                                                                       "containing one of its terms"),
    spec_defaults: Optional[Path] = typer.Option(None, "--spec-defaults", help="YAML with the batch's "
                                                                                "'models' and 'defaults'"),
    batch_deployment: Optional[str] = typer.Option(None, "--deployment", help="start this batch deployment "
                                                                              "(flow/deployment) instead of "
                                                                              "running the batch here"),
    run_root: Optional[Path] = typer.Option(None, "--run-root", help="[default: $CLIPMILL_RUN_ROOT or ./runs]"),
    db_url: Optional[str] = typer.Option(None, "--db-url", help="[default: $CLIPMILL_DATABASE_URL or SQLite "
                                                                "in the run root]"),
    db_secret: Optional[str] = typer.Option(None, "--db-secret", help="a Prefect Secret block holding the "
                                                                      "database URL, read by the poller and "
                                                                      "the batch's worker (instead of --db-url)"),
    templates_dir: Optional[Path] = TemplatesDir,
) -> None:
    """Turn trending keywords from RSS/Atom feeds, JSON APIs or CSV/text files into jobs:
    --dry-run shows them; otherwise the poller flow records them and starts the batch."""
    from clipmill.trending import (
        ScreeningStatus,
        SourceError,
        WordList,
        build_batch_spec,
        check_name_prefix,
        fetch_source,
        screen_keywords,
    )

    import yaml

    _load_templates(templates_dir)
    skeleton = {}
    try:
        if spec_defaults is not None:
            from clipmill.storage.user_files import read_user_text

            skeleton = yaml.safe_load(read_user_text(spec_defaults, kind="spec")) or {}
            if not isinstance(skeleton, dict):
                raise ValueError(f"{spec_defaults}: spec defaults are a mapping of 'models', 'defaults', 'name'")
            if skeleton.get("name") is not None:
                check_name_prefix(skeleton["name"])  # before anything is fetched, started or written
        blocked = WordList.load(blocklist) if blocklist else WordList()
        allowed = WordList.load(allowlist) if allowlist else WordList()
    except (OSError, ValueError, yaml.YAMLError) as error:
        fail(str(error))

    if not dry_run:
        from clipmill.flows.trending import trending_poller
        from clipmill.storage.db import database_in_environment

        with database_in_environment(db_url):  # by environment: a flow parameter is stored and shown
            state = trending_poller(sources=list(source), templates=list(template), spec_defaults=skeleton or None,
                                    blocklist=list(blocked.terms), allowlist=list(allowed.terms) or None,
                                    batch_deployment=batch_deployment, db_secret=db_secret,
                                    run_root=str(run_root) if run_root else None, return_state=True)
        result = state.result(raise_on_failure=False)
        if not isinstance(result, dict):  # the poll failed: its one line, as a dry run says it (exit 2)
            fail(f"trending poll failed: {result if isinstance(result, BaseException) else state.message}",
                 code=2 if isinstance(result, ValueError) else 1)
        _print_trending(result, json)
        return

    # A dry run reads the sources and the database but writes nothing and needs no Prefect.
    fetched, failed = [], {}
    for address in source:
        try:
            fetched.append(fetch_source(address))
        except SourceError as error:
            failed[address] = str(error)
    seen: set[str] = set()
    pairs = [(result.source, text) for result in fetched for text in result.keywords]
    if pairs:
        if db_secret:
            from clipmill.tasks.common import database_from_secret

            db_url = database_from_secret(db_secret)
        seen = _seen_in_database(pairs, run_root, db_url)
    decisions = screen_keywords(pairs, seen=seen, blocklist=blocked, allowlist=allowed)
    new = [d.keyword for d in decisions if d.status == ScreeningStatus.NEW]
    jobs = []
    if new:
        try:
            spec, _ = build_batch_spec(new, list(template), name="trending-dry-run", skeleton=skeleton)
        except ValueError as error:
            fail(str(error))
        jobs = spec["jobs"]
    result = {"dry_run": True, "failed_sources": failed, "decisions": [d.to_dict() for d in decisions],
              "jobs": jobs, "malformed": sum(r.malformed for r in fetched)}
    _print_trending(result, json)
    if failed and not fetched:
        raise typer.Exit(code=2)


def _seen_in_database(pairs: list[tuple[str, str]], run_root: Optional[Path], db_url: Optional[str]) -> set[str]:
    from clipmill.trending import normalise
    from clipmill.storage.config import results_database_url
    from clipmill.storage.db import init_db, session_scope
    from clipmill.storage.keywords import seen_keywords

    url = results_database_url(run_root, db_url)
    with session_scope(init_db(url)) as session:
        return seen_keywords(session, [normalise(text)[1] for _, text in pairs])


def _print_trending(result: dict, as_json: bool) -> None:
    if as_json:
        typer.echo(json_module.dumps(result, ensure_ascii=False, indent=2, default=str))
        return
    for address, problem in result.get("failed_sources", {}).items():
        typer.secho(f"source failed: {problem}", fg=typer.colors.RED, err=True)
    for decision in result["decisions"]:
        reason = f"  ({decision['reason']})" if decision.get("reason") else ""
        typer.echo(f"  {decision['status']:<9} {decision['display']}{reason}")
    if result.get("malformed"):
        typer.echo(f"  {result['malformed']} malformed entr(ies) skipped")
    jobs = result["jobs"]
    if isinstance(jobs, list):  # dry run: the jobs themselves
        typer.secho(f"{len(jobs)} job(s) would be made (dry run: nothing started or recorded)", bold=True)
        for job in jobs:
            typer.echo(f"  {job['id']:<40} {job['template']:<18} {job['keyword']}")
        return
    if not result.get("batch"):
        typer.secho("no new keywords; nothing started", bold=True)
        return
    started = result.get("started") or {}
    typer.secho(f"{jobs} job(s) in batch {result['batch']} ({started.get('mode', '?')})", bold=True)
    typer.echo(f"spec:     {result['spec_path']}")
    if started.get("flow_run_id"):
        typer.echo(f"flow run: {started['flow_run_id']} of {started['deployment']}")
    if started.get("jobs"):
        for key, status in started["jobs"].items():
            typer.echo(f"  {key:<40} {status}")
