"""LoRAs in a loaded Wan pipeline: read, checked against the model's layers, fused into its
weights, and swapped for another set with the checkpoint's own weights put back exactly.

A run of jobs with the same LoRA set pays for it once: the set is fused into the transformer
weights (no adapter layers left, so a denoising step costs what it costs without a LoRA) and
stays fused until a job asks for a different set. Then every layer the old set changed gets its
original weights back from a copy in host memory, and the new set is fused.

Why a copy instead of diffusers' `unfuse_lora`: unfusing subtracts what fusing added, and in
bfloat16 `(w + d) - d` is not always `w`. After a few swaps the weights would have drifted
from the checkpoint's, and the same seed would no longer give the same frames, here or in
`clipmill rerun`. The copy costs host memory the size of the layers a LoRA touches (a
Lightning LoRA touches every attention and feed-forward layer: about 10 GB for TI2V-5B in
bfloat16), held while a LoRA is fused.

Keys are checked before anything is loaded: a key that matches no layer of the model, or a
layer of another size (a Wan2.1 14B LoRA on TI2V-5B), is named in one line. diffusers and peft
would only log such keys and go on, leaving part of the LoRA unused.

With FP8 blocks (models.precision.Fp8Blocks) a LoRA is fused into the bf16 weights the FP8 ones
were made from, never into the FP8 ones: each transformer the swap changes gets its bf16 weights
back from the host copy Fp8Blocks keeps (so the copy here holds only what FP8 leaves in bf16,
such as biases), the new set is fused into them, and the layers are quantised again and checked
against the fused bf16 model, as at load. A set whose FP8 check fails is refused in one line.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import torch
from diffusers import DiffusionPipeline, WanTransformer3DModel

from clipmill.models.lora_files import (
    DIFFUSERS,
    EXPERTS,
    UNKNOWN,
    Expert,
    LoraFileError,
    LoraWeights,
    layout_of,
    read_header,
    read_lora_bytes,
    same_loras,
)
from clipmill.models.precision import Fp8Blocks, host_copy

logger = logging.getLogger(__name__)

_LORA_PARTS = (".lora_A.weight", ".lora_B.weight", ".lora_B.bias")
_PREFIX = "transformer."
# Layer shapes of a transformer: module name -> (in_features, out_features), or None for a
# layer whose shape is not checked (peft also adapts convolutions and embeddings).
ModuleShapes = dict[str, tuple[int, int] | None]


@dataclasses.dataclass(frozen=True)
class ConvertedLora:
    """A LoRA in diffusers' key layout (`transformer.<layer>.lora_A.weight`, ...)."""

    state_dict: dict[str, torch.Tensor]
    layout: str  # the layout the file was written in (models.lora_files)

    def layers(self) -> list[str]:
        """The transformer layers it changes, in file order."""
        seen: dict[str, None] = {}
        for key in self.state_dict:
            seen.setdefault(_layer_of(key), None)
        return list(seen)


def _layer_of(key: str) -> str:
    body = key.removeprefix(_PREFIX)
    for part in _LORA_PARTS:
        if body.endswith(part):
            return body[: -len(part)]
    return body


def convert(state_dict: Mapping[str, torch.Tensor], name: str) -> ConvertedLora:
    """`state_dict` in diffusers' layout, whatever layout it came in. `name` names the file in
    errors. diffusers converts the Wan-original (lightx2v, Kijai) and musubi layouts; keys in
    diffusers' layout without the `transformer.` prefix (as peft saves them) get it, since
    diffusers would otherwise skip them all without a word."""
    from diffusers.loaders.lora_pipeline import WanLoraLoaderMixin

    layout = layout_of(state_dict)
    if layout == UNKNOWN:
        first = next(iter(state_dict), "(none)")
        raise LoraFileError(f"LoRA {name}: its keys are in no LoRA layout clipmill reads for Wan (diffusers, "
                            f"lightx2v/Kijai or musubi); first key: {first}")
    prepared = dict(state_dict)
    if layout == DIFFUSERS and not any(key.startswith(_PREFIX) for key in prepared):
        prepared = {_PREFIX + key: value for key, value in prepared.items()}
    try:
        converted = WanLoraLoaderMixin.lora_state_dict(prepared)
    except (ValueError, KeyError, IndexError, AttributeError, RuntimeError) as error:
        detail = " ".join(str(error).split())[:200] or type(error).__name__
        raise LoraFileError(f"LoRA {name} ({layout} layout): diffusers cannot convert it for Wan: {detail}") from None
    leftovers = [key for key in converted if "lora" not in key]
    if not converted or leftovers:
        raise LoraFileError(f"LoRA {name} ({layout} layout): no LoRA weights after conversion"
                            + (f" (e.g. {leftovers[0]})" if leftovers else ""))
    return ConvertedLora(dict(converted), layout)


def read_lora(weights: LoraWeights) -> ConvertedLora:
    """The LoRA's tensors, from bytes that hash to `weights.sha256`, in diffusers' layout."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    data = read_lora_bytes(weights)
    try:
        tensors = load(data)
    except (SafetensorError, ValueError) as error:
        raise LoraFileError(f"LoRA {weights.path}: not a readable safetensors file ({error})") from None
    return convert(tensors, weights.path)


def read_lora_layout(path: str | Path) -> ConvertedLora:
    """The LoRA's keys and shapes in diffusers' layout, read from the file's header: tensors
    on the meta device, except the one-number `alpha`s the conversion scales by. For checking
    a LoRA against a model before any GPU time, without reading its megabytes."""
    from safetensors import safe_open

    header = read_header(path)
    tensors: dict[str, torch.Tensor] = {}
    small = [key for key, (_, shape) in header.items() if _numel(shape) <= 1]
    if small:
        with safe_open(str(path), framework="pt") as opened:
            tensors.update({key: opened.get_tensor(key) for key in small})
    for key, (dtype, shape) in header.items():
        if key not in tensors:
            tensors[key] = torch.empty(shape, dtype=_DTYPES.get(dtype, torch.float32), device="meta")
    return convert(tensors, str(path))


def _numel(shape: Sequence[int]) -> int:
    count = 1
    for size in shape:
        count *= size
    return count


_DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def module_shapes(transformer: torch.nn.Module) -> ModuleShapes:
    """Every layer of `transformer` a LoRA may name, with the shape of the linear ones."""
    shapes: ModuleShapes = {}
    for name, module in transformer.named_modules():
        if not name:
            continue
        if isinstance(module, torch.nn.Linear):
            shapes[name] = (module.in_features, module.out_features)
        elif hasattr(module, "base_layer") and isinstance(module.base_layer, torch.nn.Linear):
            shapes[name] = (module.base_layer.in_features, module.base_layer.out_features)
        else:
            shapes[name] = None
    return shapes


def fit_problems(lora: ConvertedLora, shapes: ModuleShapes, name: str, model: str) -> str | None:
    """One line naming what of `lora` does not fit the transformer whose layers are `shapes`
    (`model` names it, e.g. "wan2.2-ti2v-5b's transformer"); None when every key fits."""
    missing, other_size = [], []
    for layer in lora.layers():
        if layer not in shapes:
            missing.append(layer)
            continue
        expected = shapes[layer]
        if expected is None:
            continue
        down = lora.state_dict.get(f"{_PREFIX}{layer}.lora_A.weight")
        up = lora.state_dict.get(f"{_PREFIX}{layer}.lora_B.weight")
        if down is None or up is None:
            missing.append(f"{layer} (half a LoRA pair)")
            continue
        got = (down.shape[-1], up.shape[0])
        if got != expected:
            other_size.append(f"{layer}: LoRA {got[0]}->{got[1]}, model {expected[0]}->{expected[1]}")
    if not missing and not other_size:
        return None
    total = len(lora.layers())
    parts = []
    if missing:
        parts.append(f"{len(missing)} of its {total} layers are not in the model (e.g. {missing[0]})")
    if other_size:
        parts.append(f"{len(other_size)} of its {total} have another size (e.g. {other_size[0]})")
    return (f"LoRA {name} ({lora.layout} layout) does not fit {model}: " + "; ".join(parts)
            + "; is it made for this model?")


class FusedLoras:
    """The LoRA set fused into one pipeline's transformers, and the checkpoint's weights of
    every layer it changed (kept to put them back exactly; see the module doc).

    `use` runs on the generator's device thread only. `prepare` may run on any thread: it reads
    and converts a set's files ahead of its turn on the device, so that a swap holds the GPU
    for the restore and the fuse alone; the last few LoRAs read stay in host memory, so a set
    that comes back is not read again.
    """

    # LoRAs kept read (a Lightning LoRA for A14B is 600 MB): two sets of a few each.
    KEEP_READ = 4

    def __init__(self) -> None:
        self.current: tuple[LoraWeights, ...] = ()
        self._read: OrderedDict[str, ConvertedLora] = OrderedDict()  # sha256 -> converted, last used last
        self._read_lock = threading.Lock()
        # Where the last swap's seconds went: read, check, restore, keep_originals, fuse (and with
        # FP8 blocks dequantise, quantise, fp8_check: the check's two forwards).
        self.last_phases: dict[str, float] = {}
        self._originals: dict[tuple[Expert, str], dict[str, torch.Tensor]] = {}

    def prepare(self, wanted: Sequence[LoraWeights]) -> None:
        """Read and convert `wanted`'s files now, unless they are fused already or kept read.
        Raises LoraFileError as `use` would, before the request waits for the device."""
        if same_loras(wanted, self.current):
            return
        for weights in wanted:
            if weights.scale != 0.0:
                self._converted(weights)

    def _converted(self, weights: LoraWeights) -> ConvertedLora:
        with self._read_lock:
            kept = self._read.get(weights.sha256)
            if kept is not None:
                self._read.move_to_end(weights.sha256)
                return kept
        lora = read_lora(weights)  # outside the lock: another thread may read another file meanwhile
        with self._read_lock:
            self._read[weights.sha256] = lora
            while len(self._read) > self.KEEP_READ:
                self._read.popitem(last=False)
        return lora

    def use(self, pipeline: DiffusionPipeline, wanted: Sequence[LoraWeights], model: str,
            fp8: Fp8Blocks | None = None) -> float:
        """Make `wanted` the fused set; return the seconds it took (0.0 when it already was).

        `fp8`: the pipeline's FP8 blocks, when its transformers run in FP8: each transformer the
        swap changes is put back in bf16, fused and quantised again, checked (`fp8.choice` then
        names the set and the check's errors).

        Raises LoraFileError (a ValueError) for a LoRA that cannot be read or does not fit, before
        the model is touched (the fused set stays as it was), and for a set whose FP8 check fails;
        then, and on any error while fusing, the pipeline is left with the checkpoint's own
        weights (in FP8 with `fp8`) and no LoRA."""
        wanted = tuple(wanted)
        if same_loras(wanted, self.current):
            return 0.0
        started = time.perf_counter()
        self.last_phases = {}
        loras = self._read_and_check(pipeline, wanted, model, quantised_ok=fp8 is not None)
        # The transformers whose weights change: those the old set is fused into and the new one's.
        changed = {w.expert for w in self.current if w.scale != 0.0} | {w.expert for w, _ in loras}
        experts = [expert for expert in EXPERTS if expert in changed]
        with self._phase("restore"):
            self._restore(pipeline)
        self.current = ()
        try:
            for expert in experts:  # one at a time: A14B's two experts are never both in bf16 on the GPU
                self._swap_expert(pipeline, expert, [(w, lora) for w, lora in loras if w.expert == expert], model, fp8)
        except BaseException:
            self._back_to_checkpoint(pipeline, experts, fp8)
            raise
        if not wanted:
            self._originals.clear()  # nothing fused: no reason to hold gigabytes of copies
        if fp8 is not None:  # the check's errors now are those of the weights with these fused
            fp8.settle(", ".join(w.label() for w, _ in loras) or None)
        self.current = wanted
        seconds = time.perf_counter() - started
        logger.info("LoRA set now %s (%.2f s)", ", ".join(w.label() for w in wanted) or "empty", seconds)
        return seconds

    def _read_and_check(self, pipeline: DiffusionPipeline, wanted: tuple[LoraWeights, ...], model: str, *,
                        quantised_ok: bool) -> list[tuple[LoraWeights, ConvertedLora]]:
        """Every LoRA of `wanted` read and checked against its transformer, the model untouched."""
        loras = []
        for weights in (w for w in wanted if w.scale != 0.0):  # a zero scale changes nothing
            transformer = getattr(pipeline, weights.expert, None)
            if transformer is None:
                raise LoraFileError(f"LoRA {weights.path} is for the low-noise expert, and {model} has only one "
                                    "transformer: list it under `loras`, not `loras_2`")
            with self._phase("read"):
                lora = self._converted(weights)
            with self._phase("check"):
                problem = fit_problems(lora, module_shapes(transformer), weights.path,
                                       _component_label(model, weights.expert))
                if problem:
                    raise LoraFileError(problem)
                if not quantised_ok:
                    _refuse_quantized(transformer, lora, weights, model)
            loras.append((weights, lora))
        return loras

    def _swap_expert(self, pipeline: DiffusionPipeline, expert: Expert,
                     loras: list[tuple[LoraWeights, ConvertedLora]], model: str, fp8: Fp8Blocks | None) -> None:
        """`expert` from the old set's weights to the new set's (`loras`: those for it)."""
        transformer = getattr(pipeline, expert)
        if fp8 is not None:
            with self._phase("dequantise"):
                fp8.dequantize(expert)
        if loras:
            # keep the checkpoint's weights of every layer about to change (not those Fp8Blocks keeps)
            with self._phase("keep_originals"):
                for _, lora in loras:
                    self._keep_originals(transformer, expert, lora.layers(), fp8)
            # load them as adapters, fuse each at its scale, drop the adapter layers
            with self._phase("fuse"):
                self._load_and_fuse(pipeline, expert, loras)
        if fp8 is not None:
            max_abs, relative = fp8.quantize(expert, phase=self._phase)
            if relative > fp8.limit:
                names = ", ".join(w.label() for w, _ in loras) or "none"
                raise LoraFileError(
                    f"LoRAs {names} with FP8 blocks: {_component_label(model, expert)} in FP8 is {relative:.2%} from "
                    f"its bf16 weights with them fused on the check step (> {fp8.limit * 100:g}%; max |diff| "
                    f"{max_abs:.3g}); run jobs with these LoRAs with models.precision bf16")

    def _load_and_fuse(self, pipeline: DiffusionPipeline, expert: Expert,
                       loras: list[tuple[LoraWeights, ConvertedLora]]) -> None:
        names = []
        for index, (weights, lora) in enumerate(loras):
            name = f"clipmill-{expert}-{index}"
            pipeline.load_lora_weights(lora.state_dict, adapter_name=name,
                                       load_into_transformer_2=expert == "transformer_2")
            names.append((name, weights.scale))
        transformer = getattr(pipeline, expert)
        transformer.set_adapters([name for name, _ in names], [scale for _, scale in names])
        transformer.fuse_lora(adapter_names=[name for name, _ in names])
        pipeline.unload_lora_weights()  # the fused weights stay; the adapter layers go

    def _back_to_checkpoint(self, pipeline: DiffusionPipeline, experts: Sequence[Expert], fp8: Fp8Blocks | None) -> None:
        """After a failed swap: no adapter left behind, every changed layer the checkpoint's again
        (and in FP8 again with `fp8`: bit for bit the load's FP8 weights, whose check is the load's)."""
        pipeline.unload_lora_weights()
        if fp8 is not None:
            for expert in experts:
                fp8.dequantize(expert)
        self._restore(pipeline)
        self._originals.clear()
        if fp8 is not None:
            for expert in experts:
                fp8.quantize(expert)
            fp8.settle(None)

    @contextmanager
    def _phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.last_phases[name] = self.last_phases.get(name, 0.0) + time.perf_counter() - started

    def _keep_originals(self, transformer: torch.nn.Module, expert: Expert, layers: Sequence[str],
                        fp8: Fp8Blocks | None) -> None:
        for layer in layers:
            kept = self._originals.setdefault((expert, layer), {})
            for name, parameter in transformer.get_submodule(layer).named_parameters(recurse=False):
                if name in kept or (fp8 is not None and name == "weight" and fp8.holds(expert, layer)):
                    continue  # kept already, or its bf16 original is Fp8Blocks' (put back by `dequantize`)
                kept[name] = host_copy(parameter.detach())

    def _restore(self, pipeline: DiffusionPipeline) -> None:
        """Every layer changed since the checkpoint loaded gets its own weights back (with FP8
        blocks: all but the quantised weights, which `Fp8Blocks.dequantize` puts back)."""
        with torch.no_grad():
            for (expert, layer), saved in self._originals.items():
                module = getattr(pipeline, expert).get_submodule(layer)
                for name, value in saved.items():
                    module.get_parameter(name).copy_(value, non_blocking=True)
        if torch.cuda.is_available():
            torch.cuda.synchronize()  # the copies from pinned memory run asynchronously


def _component_label(model: str, expert: Expert) -> str:
    return f"{model}'s transformer" if expert == "transformer" else f"{model}'s low-noise expert (transformer_2)"


def _refuse_quantized(transformer: torch.nn.Module, lora: ConvertedLora, weights: LoraWeights, model: str) -> None:
    """Fusing adds to the weights in place: that needs plain floating-point weights, not the
    8-bit ones of an fp8 transformer, whose scales would not follow. FP8 blocks take LoRAs through
    their bf16 originals (`use(..., fp8=...)`); quantised weights without them cannot."""
    for layer in lora.layers():
        weight = getattr(transformer.get_submodule(layer), "weight", None)
        if weight is None:
            continue
        plain = type(weight.data) is torch.Tensor and weight.dtype in (torch.float32, torch.bfloat16, torch.float16)
        if not plain:
            kind = type(weight.data).__name__ if type(weight.data) is not torch.Tensor else str(weight.dtype)
            raise LoraFileError(f"LoRA {weights.path}: {model}'s layer {layer} holds quantised weights ({kind}) "
                                "without the bf16 weights they were made from (models.precision.Fp8Blocks); LoRAs "
                                "are fused into bfloat16 or float32 weights only")


def expected_modules(model: str, source: str | None) -> dict[Expert, ModuleShapes] | None:
    """The layers of each transformer of `model` as loaded from `source` (a local checkpoint
    folder, a hub id in the local cache, or None: the model's hub id), built on the meta
    device from the checkpoint's config: no weights are read. None when no config is at hand
    (a hub id not downloaded yet); the LoRA is then checked when the generator loads it."""
    from clipmill.models.catalog import MODEL_SPECS

    spec = MODEL_SPECS[model]
    if spec.hub_id is None:  # built in code (tiny): small enough to build as it is
        from clipmill.models.tiny_wan import build_tiny_components

        components = build_tiny_components()
        return {expert: module_shapes(components[expert]) for expert in EXPERTS if components.get(expert) is not None}
    configs = _transformer_configs(source or spec.hub_id)
    if configs is None:
        return None
    shapes = {}
    for expert, config in configs.items():
        with torch.device("meta"):
            shapes[expert] = module_shapes(WanTransformer3DModel.from_config(config))
    return shapes


def _transformer_configs(source: str) -> dict[Expert, dict] | None:
    import json

    from clipmill.storage.user_files import UserFileError, read_user_text

    folder = Path(source).expanduser()
    found: dict[Expert, dict] = {}
    for expert in EXPERTS:
        if folder.exists():
            path: str | None = str(folder / expert / "config.json")
            if not Path(path).is_file():
                path = None
        else:
            from huggingface_hub import try_to_load_from_cache

            try:
                cached = try_to_load_from_cache(source, f"{expert}/config.json")
            except ValueError:  # not a hub id either (a folder that is missing): nothing to read
                return None
            path = cached if isinstance(cached, str) else None
        if path is None:
            continue
        try:
            found[expert] = json.loads(read_user_text(path, kind="config"))
        except (UserFileError, ValueError):
            return None
    return found or None
