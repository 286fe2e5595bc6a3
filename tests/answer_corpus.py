"""The answer corpus: 3,000 requirements asked of seven launcher files, every answer written down.

Restructuring must not change what reqsolve answers (issue 23). ``fixtures/answers/answers.tsv``
holds, for each (file, requirement), the launcher chosen and its options, or the error's class
and message, as main answered on 2026-12-07; ``tests/test_answer_corpus.py`` asks again and
compares line by line, so a changed answer shows as a readable diff, not a changed hash.

``python -m tests.answer_corpus`` rewrites the file: do it only for a change of behaviour that is
meant, and say so in the commit.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator

from reqsolve import ReqsolveError, find_launcher
from tests.paths import ROOT

CORPUS = ROOT / "fixtures" / "answers" / "answers.tsv"
FILES = (
    "fixtures/docs_example/launchers.yaml",
    "fixtures/gpu_models/launchers.yaml",
    "fixtures/slurm/gres/launchers.yaml",
    "fixtures/slurm/clusters/grete/launchers.yaml",
    "fixtures/slurm/clusters/puhti/launchers.yaml",
    "fixtures/slurm/clusters/triton/launchers.yaml",
    "fixtures/upstream_test/launchers.yaml",
)
MODELS = ("A100", "a100-80gb", "V100", "H100", "RTX 6000", "T4", "L40S", "1080ti", "titan_x")


def _alternative(rng: random.Random) -> str:
    terms = []
    if rng.random() < 0.6:
        hours = rng.randint(1, 240)
        terms.append(f"duration={hours}h" if hours % 24 else f"duration={hours // 24} days")
    if rng.random() < 0.75:
        arguments = []
        if rng.random() < 0.8:
            arguments.append(f"mem={rng.choice((4, 8, 12, 16, 20, 24, 32, 40, 48, 80, 96))}G")
        if rng.random() < 0.3:
            arguments.append(f'model="{rng.choice(MODELS)}"')
        count = rng.choice((1, 1, 1, 2, 2, 3, 4, 8))
        gpu = f"cuda({', '.join(arguments)})"
        terms.append(gpu if count == 1 else f"{gpu}*{count}")
    if rng.random() < 0.6 or not terms:
        cores = rng.choice((1, 2, 4, 8, 16, 32, 64, 256))
        if rng.random() < 0.5:
            big = rng.random() < 0.7
            memory = f"{rng.randint(1, 600)}G" if big else f"{rng.randint(100, 9000)}M"
            terms.append(f"cpu(mem={memory}, cores={cores})")
        else:
            terms.append(f"cpu(cores={cores})")
    rng.shuffle(terms)
    return " & ".join(terms)


def requirements(count: int = 3000, seed: int = 23) -> Iterator[tuple[str, str]]:
    """(file, requirement) pairs: distinct requirements, spread over :data:`FILES`."""
    rng = random.Random(seed)
    seen: set[str] = set()
    while len(seen) < count:
        text = _alternative(rng)
        if rng.random() < 0.25:
            text = f"{text} | {_alternative(rng)}"
        if text not in seen:
            seen.add(text)
            yield FILES[len(seen) % len(FILES)], text


def answer(file: str, requirement: str) -> str:
    """One line: what reqsolve answers, tab-free."""
    try:
        launcher = find_launcher(requirement, config=ROOT / file, offline=True)
    except ReqsolveError as error:
        said = f"{type(error).__name__}: {error}"
    else:
        options = " ".join(launcher.options.args()) if launcher.type == "slurm" else ""
        said = f"{launcher.type} {launcher.id} {options}".rstrip()
    return "\t".join((file, requirement, said.replace("\t", " ").replace("\n", " / ")))


def lines() -> list[str]:
    return [answer(file, requirement) for file, requirement in requirements()]


if __name__ == "__main__":
    CORPUS.write_text("".join(f"{line}\n" for line in lines()), encoding="utf-8")
    sys.stderr.write(f"wrote {CORPUS}\n")
