"""When does ``cuda(model=X)`` match a GPU? One rule for every source of GPU names.

GPU names come from ``nvidia-smi`` (``NVIDIA A100-SXM4-80GB``, ``Tesla V100-SXM2-32GB``,
``NVIDIA GeForce RTX 4090``), launcher files (``A100``, ``GTX1080``), ``features_regex``
captures and Slurm GRES types (``a100``, ``h100_80gb``, ``a100_1g.5gb``, ``1080ti``). People type
``H200``, ``a100``, ``RTX4090`` or ``4090``. Exact (case-insensitive) equality always matches;
otherwise both names are read the same way (docs/gpu-models.md):

- casefolded, cut into words at anything that is not a letter or a digit, vendor words dropped
  (``nvidia``, ``tesla``, ``geforce``, ``amd``, ``radeon``, ``instinct``);
- the **model** is the first word holding a number, read as an optional one-letter series, the
  number and a glued variant (``a100``, ``h200``, ``l40s``, ``a10g``, ``1080ti``); a variant
  written as its own word right after the number (``Ti``, ``Super``) joins it (``1080 Ti`` ->
  ``1080ti``), a lone series letter right before it too (``A 100`` -> ``a100``);
- longer letter runs before the number are the **line** (``rtx`` in ``RTX4090`` / ``RTX 4090``,
  ``gtx``, ``quadro``); the words after the model are **qualifiers** (``sxm4``, ``80gb``, ``pcie``,
  ``hbm3``), sizes written alike (``80G``, ``80GB``, ``80GiB`` -> ``80gb``);
- a generation the name states (``Ada`` of ``RTX 6000 Ada Generation``, ``Blackwell``; glued:
  ``rtx6000ada``) is part of the model: ``RTX 6000`` is the Quadro RTX 6000, never the Ada;
- a MIG profile (``1g.5gb``) is part of what the device is: a slice matches only an ask naming
  that profile, and an ask naming a profile matches only that slice.

An ask matches a name when the models are equal, the ask's qualifiers are among the name's,
and so is its line when the name has one (``RTX A6000`` matches the GRES type ``a6000``). So
``A100`` matches ``NVIDIA A100-SXM4-80GB`` and ``a100``, ``4090`` and ``RTX4090`` match
``NVIDIA GeForce RTX 4090``; ``A10`` never matches ``A100`` (other model), ``H100`` never
``H200``, ``L40`` never ``L40S``, ``1080`` never ``1080ti``. Names without a number
(``titan_x``) match an ask whose words are all among theirs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

VENDOR_WORDS = frozenset({"nvidia", "tesla", "geforce", "amd", "radeon", "instinct"})
VARIANT_WORDS = frozenset({"ti", "super"})
# an architecture a name states beside its number (NVIDIA RTX 6000 Ada Generation, RTX PRO 6000
# Blackwell): part of the model, as the same number was sold in several generations
GENERATIONS = {
    "kepler": "kepler", "maxwell": "maxwell", "pascal": "pascal", "volta": "volta",
    "turing": "turing", "ampere": "ampere", "ada": "ada", "lovelace": "ada", "hopper": "hopper",
    "blackwell": "blackwell",
}
FILLER_WORDS = frozenset({"generation"})  # "Ada Generation": the generation is "ada"
_MIG = re.compile(r"(\d+)g\.(\d+)gb")
_WORD = re.compile(r"[a-z0-9]+")
# a word holding the model: letters (a one-letter series or a line), a number, a glued variant
_MODEL_WORD = re.compile(r"([a-z]*)(\d+)([a-z]*)")
_SIZE = re.compile(r"(\d+)(?:g|gb|gib)")


@dataclass(frozen=True, slots=True)
class ModelForm:
    """A GPU name as the rule reads it: computed once per name (GPU kinds keep theirs)."""

    exact: str  # the casefolded name
    model: str | None  # "a100", "4090", "1080ti"; None when no word holds a number
    generation: str | None  # "ada" of "RTX 6000 Ada Generation" (a numbered model only)
    line: frozenset[str]  # "rtx", "gtx", "quadro"
    qualifiers: frozenset[str]  # "sxm4", "80gb", "pcie"
    mig: str | None  # "1g.5gb"

    @property
    def words(self) -> frozenset[str]:
        """Every word of the name (for names without a model)."""
        found = self.line | self.qualifiers
        return found | {self.model} if self.model is not None else found


def _size(word: str) -> str:
    size = _SIZE.fullmatch(word)
    return f"{size.group(1)}gb" if size else word


@lru_cache(maxsize=4096)
def model_form(name: str) -> ModelForm:
    """How the rule reads ``name`` (pure; cached: a file repeats a few names)."""
    exact = name.casefold()
    mig_found = _MIG.search(exact)
    mig = f"{mig_found.group(1)}g.{mig_found.group(2)}gb" if mig_found else None
    text = _MIG.sub(" ", exact) if mig_found else exact
    words = [
        w for w in _WORD.findall(text) if w not in VENDOR_WORDS and w not in FILLER_WORDS
    ]
    line: set[str] = set()
    qualifiers: set[str] = set()
    model = None
    index = 0
    while index < len(words):
        word = words[index]
        found = _MODEL_WORD.fullmatch(word)
        if found is None:
            line.add(word)
            index += 1
            continue
        prefix, number, variant = found.groups()
        if len(prefix) > 1:  # rtx4090, gtx1080: the line glued to the number
            line.add(prefix)
            prefix = ""
        if not prefix and index and len(words[index - 1]) == 1 and words[index - 1] in line:
            # A 100: a lone series letter written apart joins the number
            prefix = words[index - 1]
            line.discard(prefix)
        index += 1
        if not variant and index < len(words) and words[index] in VARIANT_WORDS:
            variant = words[index]
            index += 1
        generation = GENERATIONS.get(variant)
        if generation is not None:  # rtx6000ada: the generation glued to the number
            variant = ""
        model = f"{prefix}{number}{variant}"
        qualifiers.update(_size(w) for w in words[index:])
        stated = {w for w in line | qualifiers if w in GENERATIONS}
        line -= stated
        qualifiers -= stated
        if stated and generation is None:
            generation = GENERATIONS[min(stated)]
        return ModelForm(
            exact, model, generation, frozenset(line), frozenset(qualifiers), mig
        )
    return ModelForm(exact, None, None, frozenset(line), frozenset(qualifiers), mig)


def form_matches(asked: ModelForm, name: ModelForm) -> bool:
    """The rule on two read names: is a GPU called ``name`` one of the ``asked`` model?"""
    if asked.exact == name.exact:
        return True
    if asked.mig != name.mig:
        return False
    if asked.model is None:
        return bool(asked.words) and asked.words <= name.words
    return (
        asked.model == name.model
        and asked.generation == name.generation
        and (asked.line <= name.line or not name.line)
        and asked.qualifiers <= name.qualifiers
    )


def model_matches(asked: str, name: str) -> bool:
    """Does a GPU named ``name`` satisfy ``cuda(model=asked)``? (docs/gpu-models.md)

    ``name`` is what a launcher says the GPU is: an ``nvidia-smi`` name, a launcher file's
    ``model:``, a ``cuda_model`` captured by ``features_regex`` or a Slurm GRES type.
    """
    return form_matches(model_form(asked), model_form(name))


# How far a GPU's name is from the model asked, for "closest" in messages (docs/matching.md,
# "No answer"): a node of the model asked is named before one of another series.
SAME_MODEL_GAP = 0.5  # the model asked, under a name that does not state all of the ask
OTHER_VARIANT_GAP = 0.6  # the model asked, of another line or generation
OTHER_SLICE_GAP = 0.7  # the model asked, sliced otherwise (a MIG slice for the whole GPU)
SAME_SERIES_GAP = 0.75  # another model of the series asked (A40 for A100, H200 for H100)
SLICED_SERIES_GAP = 0.85  # the same, sliced otherwise


@lru_cache(maxsize=4096)
def model_gap(asked: str, name: str) -> float:
    """How far a GPU called ``name`` is from the ``asked`` model, from 0 (it is of the model)
    to 1 (another series): the model asked under a name that lacks or contradicts a qualifier
    asked (``a100`` for ``A100-80GB``) is closest, then of another line or generation, then
    sliced otherwise, then another model of the series letter asked (or, without one, of the
    line asked), then anything else."""
    want, have = model_form(asked), model_form(name)
    if form_matches(want, have):
        return 0.0
    if want.model is None or have.model is None:
        return 1.0
    if want.model == have.model:
        if want.mig != have.mig:
            return OTHER_SLICE_GAP
        if want.generation != have.generation or (have.line and not want.line <= have.line):
            return OTHER_VARIANT_GAP
        return SAME_MODEL_GAP
    series, other = want.model[0], have.model[0]
    if (series == other) if series.isalpha() else bool(want.line & have.line):
        return SAME_SERIES_GAP if want.mig == have.mig else SLICED_SERIES_GAP
    return 1.0


def near_miss(asked: str, name: str) -> str | None:
    """Why a GPU called ``name``, of the model asked, still does not match it, as a clause on
    the GPU (None when it matches or is another model): the part of the ask its name does not
    show (``whose name does not state 80gb``)."""
    want, have = model_form(asked), model_form(name)
    if want.model is None or want.model != have.model or form_matches(want, have):
        return None
    if want.mig != have.mig:
        if have.mig is None:
            return f"which is the whole GPU, the MIG slice {want.mig} asked"
        return f"which is a MIG slice ({have.mig}), {want.mig or 'the whole GPU'} asked"
    if want.generation != have.generation:
        stated = f"the generation {have.generation}" if have.generation else "no generation"
        return f"whose name states {stated}, {want.generation or 'none'} asked"
    if have.line and not want.line <= have.line:
        return f"whose line is {' '.join(sorted(have.line))}, {' '.join(sorted(want.line))} asked"
    missing = sorted(want.qualifiers - have.qualifiers)
    sizes = sorted(q for q in have.qualifiers if _SIZE.fullmatch(q))
    if sizes and any(map(_SIZE.fullmatch, missing)):  # A100-PCIE-40GB for A100-80GB
        return f"whose name states {' '.join(sizes)}, {' '.join(missing)} asked"
    whatever = ", whatever memory the file gives it" if any(map(_SIZE.fullmatch, missing)) else ""
    return (
        f"whose name does not state {' '.join(missing)} (a qualifier asked must be in the GPU's"
        f" name{whatever})"
    )


def only_qualifiers_differ(asked: str, name: str) -> bool:
    """Is a GPU called ``name`` of the model asked, but for qualifiers its name does not state
    (``a100`` for ``A100-80GB``)? Not when a line, generation or MIG profile differs."""
    want, have = model_form(asked), model_form(name)
    return (
        want.model is not None
        and want.model == have.model
        and want.mig == have.mig
        and want.generation == have.generation
        and (not have.line or want.line <= have.line)
        and not want.qualifiers <= have.qualifiers
    )


def model_base(asked: str) -> str:
    """The model of an asked name without its line and qualifiers (``A100-80GB`` -> ``a100``,
    ``RTX 6000 Ada 48GB`` -> ``6000ada``): an ask for any GPU of that model."""
    form = model_form(asked)
    return f"{form.model}{form.generation or ''}" if form.model is not None else asked


def size_qualifiers(asked: str) -> tuple[int, ...]:
    """The sizes an asked name states, in GB (``A100-80GB`` -> (80,)): what ``mem=`` asks."""
    return tuple(
        int(found.group(1))
        for word in model_form(asked).qualifiers
        if (found := _SIZE.fullmatch(word)) is not None
    )

