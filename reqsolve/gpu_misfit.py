"""Why no host GPU fits one requested GPU, in words: the detail of a ``misfit`` shortfall.

:mod:`reqsolve.matching` decides; this module words the one request that fits no host GPU,
against the host GPU that came closest — a model asked that no GPU of the node is (naming the
kinds the node has, and, when one is the model asked under a name that does not show the whole
ask, why it does not match and how to make it: docs/gpu-models.md), GPU memory unknown or short,
or a ``min_memory`` the request is below.
"""

from __future__ import annotations

from collections.abc import Sequence

from reqsolve.candidates import ratio_memory
from reqsolve.gpu_models import (
    SAME_SERIES_GAP,
    model_base,
    model_gap,
    model_matches,
    near_miss,
    only_qualifiers_differ,
    size_qualifiers,
)
from reqsolve.places import GpuKind
from reqsolve.quantities import human_memory, memory_pair
from reqsolve.requirement import Accelerator

GB = 10**9


def misfit(kinds: Sequence[GpuKind], gpu: Accelerator) -> str:
    """Why no host GPU fits one request, against the host GPU that came closest."""
    asked = human_memory(gpu.memory) if gpu.memory else "0B"
    if not kinds:
        return "the node has no GPU"
    same_model = [k for k in kinds if gpu.model is None or k.accepts_model(gpu.model)]
    if not same_model:
        assert gpu.model is not None
        return other_model(kinds, gpu, gpu.model)
    big = [k for k in same_model if not gpu.memory or (k.memory or 0) >= gpu.memory]
    if not big:
        known = [k.memory for k in same_model if k.memory is not None]
        if not known:
            types = sorted({k.gres for k in same_model if k.gres is not None})
            where = (
                f"gres_memory: {{{types[0]}: <size>}} for its GRES type, "
                if types
                else ""
            )
            return (
                f"GPU memory unknown, {asked} asked: state the GPU's memory in the launcher"
                f" file ({where}gpu memory, or a features_regex capturing cuda_memory)"
            )
        asked, largest = memory_pair(gpu.memory, max(known))
        return f"GPU memory {largest} < {asked} asked"
    closest = min(big, key=lambda k: k.min_memory)
    # the sizes in the unit of the one asked (0B asked: each in its own)
    threshold = human_memory(closest.min_memory)
    size = "unknown-size" if closest.memory is None else human_memory(closest.memory)
    if gpu.memory:
        asked, threshold = memory_pair(gpu.memory, closest.min_memory)
        if closest.memory is not None:
            size = memory_pair(gpu.memory, closest.memory)[1]
    if (
        closest.min_mem_ratio
        and closest.memory is not None
        and ratio_memory(closest.memory, closest.min_mem_ratio) == closest.min_memory
    ):
        return (
            f"min_mem_ratio {closest.min_mem_ratio}: this {size} GPU needs"
            f" ≥ {threshold}, asked {asked}"
        )
    return f"min_memory: this {size} GPU needs ≥ {threshold}, asked {asked}"


def other_model(kinds: Sequence[GpuKind], gpu: Accelerator, model: str) -> str:
    """No GPU of the node is of the ``model`` asked: what it has instead, and — for a GPU of
    that model under a name that does not show the whole ask — why and how to make it match."""
    named = [kind for kind in kinds if kind.model is not None]
    if named:
        nearest = min(named, key=lambda kind: model_gap(model, kind.model or ""))
        if model_gap(model, nearest.model or "") < SAME_SERIES_GAP:  # the model asked
            return near_model(nearest, gpu, model)
    text = f"model {model} asked, the node has " + ", ".join(
        sorted({_kinds_text(kind) for kind in kinds})
    )
    if any(kind.mix for kind in kinds):
        if any(m is not None and model_matches(model, m) for k in kinds for m, _ in k.mix):
            text += ", and asked without a GRES type Slurm may hand out any of them"
    elif any(kind.model is None for kind in kinds):
        text += " (name the GPU's model in the launcher file: gpu model, gres_memory's model)"
    return text


def near_model(kind: GpuKind, gpu: Accelerator, model: str) -> str:
    """``kind`` is the ``model`` asked but its name does not show the whole ask (a100 for
    A100-80GB): why (docs/gpu-models.md), and what to ask or write instead."""
    name = kind.model
    assert name is not None
    text = f"model {model} asked, the node has {name}, {near_miss(model, name)}"
    if not only_qualifiers_differ(model, name):  # a line, generation or MIG profile differs
        return f'{text}; to ask for this GPU: cuda(model="{name}")'
    where = "gpu model" + (
        f", or gres_memory's model for GRES type {kind.gres}" if kind.gres is not None else ""
    )
    write = f"name the model {model} in the launcher file ({where})"
    sizes = size_qualifiers(model)
    needed = max(gpu.memory, max(sizes, default=0) * GB)
    mem = ""
    if needed:
        mem = f", mem={max(sizes)}G" if needed == max(sizes, default=0) * GB else (
            f", mem={human_memory(needed)}"
        )
    ask = f"cuda(model={model_base(model)}{mem})"
    if not needed:
        return f"{text}; to match, ask {ask}, or {write}"
    if kind.memory is None:
        return f"{text}; to match, {write}, or state its GPU memory there and ask {ask}"
    if kind.memory < needed:
        needed_text, have = memory_pair(needed, kind.memory)
        text = f"{text}; its GPUs have {have}, {needed_text} asked"
        if sizes and kind.memory >= needed * 0.95:  # nvidia-smi's 79.x GB of an 80GB GPU
            text += f": if they are {max(sizes)}GB GPUs, {write}"
        return text
    return f"{text}; to match, ask {ask}, or {write}"


def _kinds_text(kind: GpuKind) -> str:
    if kind.mix:
        return " and ".join(f"{count} {name or 'of no stated model'}" for name, count in kind.mix)
    return kind.model or "GPUs of no stated model"
