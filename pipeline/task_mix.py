"""Labelled tasks into a templated mix, the way Flan and P3 built theirs: each task's
instances rendered through several templates of its type, zero-shot and few-shot, with the
answer choices of a classification task in an OPTIONS suffix, at most --per-task examples a
task so large tasks do not drown small ones, and every choice drawn from a seeded RNG.

A task is the examples sharing meta["task"] (Super-NI and NI v1 files: the file), else
meta["category"] (Dolly), else the file they came from."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError
from pipeline.formats.superni import POSITIVE
from pipeline.templating import TYPES, Template, render
from pipeline.types import Drop, Example

MAX_OPTIONS = 20  # more distinct outputs than this is not a label set
METHOD = "template"
# Words in a task's categories or name that tell its type, tried in this order: "answerability
# classification" is classification, "question answering" is QA.
TYPE_WORDS = (
    ("summarization", ("summariz", "summaris")),
    ("rewriting", ("paraphras", "simplif", "grammar error", "style transfer", "rewrit")),
    ("extraction", ("extract", "entity recognition", "keyword tagging")),
    ("classification", ("classif", "sentiment", "detection", "categoriz", "entailment",
                        "verification", "stance", "polarity")),
    ("qa", ("question answering", "qa ", "answer generation")),
)  # fmt: skip


@dataclass
class Task:
    name: str
    type: str | None
    instances: list[Example] = field(default_factory=list)
    demos: list[Example] = field(default_factory=list)  # the task's own positive examples

    @property
    def shared(self) -> bool:
        """True when every instance has one definition, so demonstrations fit every query."""
        return len({e.instruction for e in self.instances}) == 1


@dataclass(frozen=True)
class MixOptions:
    per_task: int = 100
    seed: int = 0
    few_shot: float = 0.5  # share of a task's examples rendered few-shot
    shots: int = 2
    task_type: str | None = None  # every task's type, instead of inferring it
    labels: tuple[str, ...] = ()  # the answer choices, instead of the task's distinct outputs


def infer_type(example: Example, task: str) -> str | None:
    """The task type from meta["type"], the categories, the category or the task's name."""
    meta = example.meta
    explicit = meta.get("type") or meta.get("task_type")
    if explicit in TYPES:
        return explicit
    cats = meta.get("categories")
    texts = [*(cats if isinstance(cats, list) else []), meta.get("category"), task]
    for text in texts:
        words = " " + " ".join(re.findall(r"[a-z]+", str(text or "").lower())) + " "
        for kind, stems in TYPE_WORDS:
            if any(f" {stem}" in words for stem in stems):
                return kind
    return None


def task_name(example: Example) -> str:
    for key in ("task", "category"):
        value = example.meta.get(key)
        if isinstance(value, str) and value:
            return value
    return Path(str(example.meta.get("source", ""))).stem or "task"


def group_tasks(examples: list[Example]) -> list[Task]:
    """Tasks in order of first appearance; positive examples become their task's demos."""
    tasks: dict[str, Task] = {}
    for e in examples:
        name = task_name(e)
        task = tasks.setdefault(name, Task(name, infer_type(e, name)))
        (task.demos if e.meta.get("kind") == POSITIVE else task.instances).append(e)
    return [t for t in tasks.values() if t.instances]


def mix(
    tasks: list[Task], templates: dict[str, list[Template]], options: MixOptions
) -> tuple[list[Example], list[Drop], dict[str, Any]]:
    """The templated examples of every task, shuffled together by the seed; the drops; stats."""
    kept: list[Example] = []
    drops: list[Drop] = []
    per_task: dict[str, Any] = {}
    for task in tasks:
        examples, dropped, stats = _one_task(task, templates, options)
        kept += examples
        drops += dropped
        per_task[task.name] = stats
    random.Random(f"{options.seed}:mix").shuffle(kept)
    stats = {
        "kept": len(kept),
        "dropped": len(drops),
        "options": {**options.__dict__, "labels": list(options.labels)},
        "tasks": per_task,
    }
    return kept, drops, stats


def _skip(task: Task, reason: str, detail: str) -> tuple[list, list[Drop], dict[str, Any]]:
    drop = Drop("task", reason, f"{task.name}: {detail}", meta={"task": task.name})
    return [], [drop], {"type": task.type, "instances": len(task.instances), "skipped": reason}


def _labels(task: Task, options: MixOptions) -> list[str] | None:
    if options.labels:
        return list(options.labels)
    found = sorted({e.output for e in task.instances})
    return found if len(found) <= MAX_OPTIONS else None


def _one_task(task: Task, templates: dict[str, list[Template]], options: MixOptions) -> tuple:
    kind = options.task_type or task.type
    if kind is None:
        return _skip(task, "no_task_type", f"type not known; pass --type ({', '.join(TYPES)})")
    labels: list[str] = []
    instances, drops = task.instances, []
    if kind == "classification":
        found = _labels(task, options)
        if found is None:
            count = len({e.output for e in instances})
            return _skip(task, "too_many_labels", f"{count} distinct outputs; pass --labels")
        labels = found
        drops = [
            Drop("labels", "not_in_label_set", e.output, example=e)
            for e in instances
            if e.output not in labels
        ]
        instances = [e for e in instances if e.output in labels]
    pool = _usable(task, templates.get(kind, []))
    if not pool or not instances:
        reason = "no_templates" if not pool else "no_instances"
        _, skipped, stats = _skip(task, reason, f"nothing left to render as {kind}")
        return [], drops + skipped, stats
    examples = _render_all(task, kind, instances, pool, labels, options)
    shots = sum(1 for e in examples if e.meta["shots"])
    stats = {
        "type": kind,
        "instances": len(task.instances),
        "kept": len(examples),
        "capped": len(instances) - len(examples),
        "dropped": len(drops),
        "zero_shot": len(examples) - shots,
        "few_shot": shots,
        "templates": len(pool),
    }
    return examples, drops, stats


def _usable(task: Task, templates: list[Template]) -> list[Template]:
    """Instances with their own instructions (Dolly) need templates that show the instruction;
    a task without any instruction cannot use those that do."""
    has_definition = any(e.instruction.strip() for e in task.instances)
    if not task.shared:
        return [t for t in templates if t.needs_definition]
    return [t for t in templates if has_definition or not t.needs_definition]


def _render_all(
    task: Task,
    kind: str,
    instances: list[Example],
    pool: list[Template],
    labels: list[str],
    options: MixOptions,
) -> list[Example]:
    rng = random.Random(f"{options.seed}:{task.name}")
    chosen = rng.sample(instances, min(options.per_task, len(instances)))
    order = rng.sample(pool, len(pool))  # cycled, so a task uses its templates evenly
    examples = []
    for k, instance in enumerate(chosen):
        template = order[k % len(order)]
        few = task.shared and options.shots > 0 and rng.random() < options.few_shot
        demos = _demos(task, instance, instances, labels, options.shots, rng) if few else []
        instruction, text = render(template, instance, labels, demos)
        meta: dict[str, Any] = {
            "task": task.name,
            "task_type": kind,
            "template": template.id,
            "shots": len(demos),
            "source_id": instance.id,
        }
        if demos:
            meta["demo_ids"] = [d.id for d in demos]
        if labels:
            meta["options"] = labels
        ident = f"{task.name}-{k:04d}"
        examples.append(Example(instruction, text, instance.output, ident, METHOD, meta))
    return examples


def _demos(
    task: Task,
    query: Example,
    instances: list[Example],
    labels: list[str],
    shots: int,
    rng: random.Random,
) -> list[Example]:
    """The task's own positive examples when it has enough, else other instances."""
    own = [d for d in task.demos if d.output and (not labels or d.output in labels)]
    candidates = own if len(own) >= shots else [e for e in instances if e is not query]
    return rng.sample(candidates, shots) if len(candidates) >= shots else []


def write_mix(out: Path, kept: list[Example], drops: list[Drop], stats: dict[str, Any]) -> None:
    """A run-directory-like folder: kept.jsonl, removed.jsonl, alpaca.json, stats.json."""
    from pipeline.store import RUN_FILE, RunDir

    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; pass a directory path")
    if (out / RUN_FILE).exists():
        raise ConfigError(f"--out {out} is a generation run's directory; choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    RunDir(out).write_outputs(kept, drops, stats)


def template_tasks(
    source: Path,
    out: Path,
    options: MixOptions,
    source_format: str | None = None,
    mapping: str | None = None,
    templates_dir: Path | None = None,
) -> dict[str, Any]:
    """Read labelled tasks, render the mix, write it to `out`; returns the stats written."""
    from pipeline.formats import read_examples
    from pipeline.templating import load_templates

    templates = load_templates(templates_dir)
    tasks = group_tasks(read_examples(source, source_format, mapping))
    kept, drops, stats = mix(tasks, templates, options)
    write_mix(out, kept, drops, stats)
    return stats
