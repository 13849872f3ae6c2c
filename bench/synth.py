"""Write a valid synthetic knowledge base of a given size, for the benchmark.

Entries are modelled on the shipped knowledge base: each synthetic procedure or
condition copies the text fields of a real entry (so field sizes are realistic)
under a new, unique, pronounceable name, with random but valid cross-links,
families (parent/variants), prerequisites and next steps.

    python bench/synth.py --procedures 10000 --conditions 5000 OUT_DIR
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ra",
    "te",
    "su",
    "vo",
    "ne",
    "di",
    "pa",
    "ba",
    "ru",
    "ko",
    "li",
    "fe",
    "zo",
    "ga",
    "hu",
    "ni",
    "sa",
    "to",
    "me",
    "ja",
    "vi",
    "do",
    "pe",
    "ri",
    "lu",
    "na",
    "ce",
    "mo",
    "ki",
    "da",
    "so",
    "be",
    "gu",
    "fa",
    "za",
    "ho",
    "ye",
]
PROCEDURE_KINDS = [
    "nerve block", "joint injection", "radiofrequency ablation", "epidural injection", "stimulation",
    "neurotomy", "ganglion block", "plexus block", "facet injection", "bursa injection",
]  # fmt: skip
CONDITION_KINDS = ["neuralgia", "syndrome", "arthropathy", "radiculopathy", "tendinopathy", "myalgia", "neuropathy"]


def words(rng: random.Random, count: int) -> list[str]:
    """`count` distinct pseudo-words of three syllables."""
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < count:
        word = "".join(rng.choice(SYLLABLES) for _ in range(3))
        if word not in seen:
            seen.add(word)
            out.append(word)
    return out


def synthesize(n_procedures: int, n_conditions: int, seed: int = 1) -> tuple[list[dict], list[dict]]:
    rng = random.Random(seed)
    real_procs = yaml.safe_load((REPO / "data" / "procedures.yaml").read_text())["procedures"]
    real_conds = yaml.safe_load((REPO / "data" / "conditions.yaml").read_text())["conditions"]
    names = words(rng, n_procedures + n_conditions)
    procs: list[dict] = []
    for i in range(n_procedures):
        base = dict(rng.choice(real_procs))
        word = names[i]
        kind = PROCEDURE_KINDS[i % len(PROCEDURE_KINDS)]
        ident = f"{word}-{kind.replace(' ', '-')}"
        base.update(
            id=ident,
            name=f"{word.capitalize()} {kind}",
            aliases=[f"{word} {''.join(w[0] for w in kind.split())}", f"{kind} of {word}"],
            parent=None,
            prerequisites=[],
            next_steps=[],
        )
        # About a fifth are variants of an earlier general entry (no cycles possible).
        if i > 10 and rng.random() < 0.2:
            candidate = procs[rng.randrange(0, i)]
            if candidate["parent"] is None:
                base["parent"] = candidate["id"]
        if i > 2:
            base["prerequisites"] = rng.sample([p["id"] for p in procs[max(0, i - 50) : i]], k=rng.randint(0, 2))
            base["next_steps"] = [
                x for x in rng.sample([p["id"] for p in procs[max(0, i - 50) : i]], k=rng.randint(0, 2))
                if x not in base["prerequisites"]
            ]  # fmt: skip
        procs.append(base)
    conds: list[dict] = []
    for j in range(n_conditions):
        base = dict(rng.choice(real_conds))
        word = names[n_procedures + j]
        kind = CONDITION_KINDS[j % len(CONDITION_KINDS)]
        linked = rng.sample(range(n_procedures), k=min(n_procedures, rng.randint(2, 6)))
        base.update(
            id=f"{word}-{kind}",
            name=f"{word.capitalize()} {kind}",
            aliases=[f"{word} {kind[:4]}"],
            procedures=[{"id": procs[k]["id"], "role": rng.choice(["diagnostic", "therapeutic"])} for k in linked],
        )
        conds.append(base)
    # Every procedure treats at least one condition.
    linked_ids = {link["id"] for c in conds for link in c["procedures"]}
    for k, proc in enumerate(procs):
        if proc["id"] not in linked_ids and conds:
            conds[k % len(conds)]["procedures"].append({"id": proc["id"], "role": "therapeutic"})
    return procs, conds


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: object) -> bool:
        return True  # entries share copied text; write it out in full, as a person would


def write(out: Path, procs: list[dict], conds: list[dict]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, key, entries in (("procedures.yaml", "procedures", procs), ("conditions.yaml", "conditions", conds)):
        text = yaml.dump({key: entries}, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
        (out / name).write_text(text)
    for name in ("glossary.yaml", "guide.yaml"):
        (out / name).write_text((REPO / "data" / name).read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--procedures", type=int, default=10000)
    parser.add_argument("--conditions", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    procs, conds = synthesize(args.procedures, args.conditions, args.seed)
    write(args.out, procs, conds)
    size = sum(p.stat().st_size for p in args.out.glob("*.yaml"))
    print(f"wrote {len(procs)} procedures, {len(conds)} conditions ({size / 1e6:.1f} MB) to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
