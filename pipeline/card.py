"""The dataset card: README.md beside a run's outputs, in the layout of a Hugging Face dataset
card. Its YAML front matter names the run's exports as configs (`alpaca.json` the default), so
`datasets.load_dataset(folder)` loads them and the Hub shows them; its body says which method
and models made the data, with what settings, what the funnel kept and dropped, what it cost,
and how to cite the method (the method's MethodSpec: description, paper, cite).

Written from the folder's own files (run.json, stats.json) whenever they are: at every
checkpoint and at the end of a run (pipeline/engine/session.py), by merge and after an export
into the folder. The license stays the user's: a value they set survives every rewrite, and a
README.md that is not ours is never touched."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from pipeline import methods
from pipeline.formats.registry import FORMATS
from pipeline.secrets import redact_url
from pipeline.store import ALPACA, KEPT, RUN_FILE, STATS, atomic_write

if TYPE_CHECKING:
    from pipeline.methods.spec import MethodSpec

CARD = "README.md"
MARK = "# Written by instructgen"  # the front matter's first line: a card this module rewrites
PLACEHOLDER = "unknown"  # a license the Hub accepts, saying none was chosen
LOADABLE = (".json", ".jsonl", ".parquet")  # what the datasets library's builders read
SIZES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
         (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"),
         (10**9, "100M<n<1B"), (10**10, "1B<n<10B"), (10**11, "10B<n<100B"),
         (10**12, "100B<n<1T"))  # fmt: skip
# Settings of where and how fast a run went: nothing a reader of the data needs.
UNSHOWN = ("out", "api_key_env", "concurrency", "checkpoint_seconds", "judge", "timeout")
_LICENSE = re.compile(r"^license:[ \t]*(\S[^\n]*)$", re.M)


def write_card(folder: Path) -> Path | None:
    """Write the folder's card from its files (atomically); None when a README.md there is not
    ours, or there is no stats.json to describe."""
    path = folder / CARD
    old = _read(path)
    stats = _json(folder / STATS)
    if (old is not None and MARK not in old) or not isinstance(stats, dict):
        return None
    config = _config(folder, stats)
    spec = methods.registry().get(str(config.get("method") or _first_method(folder)))
    license_ = _license_set(old)
    atomic_write(path, [card_text(folder, spec, config, stats, license_)])
    return path


def refresh_card(folder: Path) -> Path | None:
    """After an export into `folder`: rewrite its card if it is a run directory or has one."""
    if (folder / RUN_FILE).is_file() or (folder / CARD).is_file():
        return write_card(folder)
    return None


def card_text(
    folder: Path, spec: MethodSpec | None, config: dict, stats: dict, license_: str
) -> str:
    configs = data_configs(folder, spec)
    kept = int(stats.get("funnel", {}).get("kept", 0))
    if spec is not None and spec.target is None:
        config = {k: v for k, v in config.items() if k != "target"}  # a method with no target
    parts = [
        front_matter(configs, kept, license_, spec),
        _intro(folder, spec, stats, license_),
        _loading(configs),
        _models(config),
        _settings(config, "shards" in stats),
        _funnel(stats, _made(spec)),
        _scores(stats),
        _shards(stats),
        _spend(stats),
        _citation(spec),
    ]
    return "\n".join(p for p in parts if p)


def data_configs(folder: Path, spec: MethodSpec | None = None) -> dict[str, str]:
    """Config name -> file, for every export in the folder the datasets library can read:
    `default` for the first of them the method writes itself (a conversations run's chat
    file: alpaca.json holds only each conversation's first exchange), else for alpaca.json;
    the format's name for the others."""
    present = [
        f for f in FORMATS.values()
        if f.filename.endswith(LOADABLE) and (folder / f.filename).is_file()
    ]  # fmt: skip
    own = spec.outputs.files if spec is not None and spec.outputs is not None else ()
    first = next((f.filename for name in own for f in present if f.filename == name), ALPACA)
    found = {"default" if f.filename == first else f.name: f.filename for f in present}
    return dict(sorted(found.items(), key=lambda kv: kv[0] != "default"))


def size_category(n: int) -> str:
    """The Hub's bucket for n rows."""
    return next((label for bound, label in SIZES if n < bound), "n>1T")


def front_matter(configs: dict[str, str], n: int, license_: str, spec: MethodSpec | None) -> str:
    lines = ["---", f"{MARK}; rewritten on every run and export, the license line kept."]
    lines.append("configs:")
    for name, file in configs.items():
        lines += [f"- config_name: {name}", "  data_files:", "  - split: train"]
        lines.append(f"    path: {json.dumps(file)}")
    lines += [f"license: {license_}", "language:", "- en", "task_categories:", "- text-generation"]
    lines += ["size_categories:", f"- {size_category(n)}", "tags:", "- synthetic"]
    lines += ["- instruction-tuning", "- instructgen"]
    lines += [f"- {json.dumps(spec.name)}"] if spec is not None else []
    return "\n".join([*lines, "---", ""])


def _intro(folder: Path, spec: MethodSpec | None, stats: dict, license_: str) -> str:
    name = f"`{spec.name}`" if spec is not None else "an unknown"
    about = (spec.description or spec.summary) if spec is not None else ""
    merged = f" Merged from {len(stats['shards'])} shard runs." if "shards" in stats else ""
    text = [f"# {folder.resolve().name}", ""]
    text += [f"Instruction-tuning data made by instructgen's {name} method.{merged}", ""]
    text += [about, ""] if about else []
    if license_ == PLACEHOLDER:
        text += [
            f"**License: not set.** `license: {PLACEHOLDER}` above is a placeholder: set it to "
            "the terms this data may be shared under, which depend on the seed data and on "
            "the terms of the models that wrote it. A rewrite of this card keeps your value.",
            "",
        ]
    return "\n".join(text)


def _loading(configs: dict[str, str]) -> str:
    lines = ["## Loading", "", "| config | file |", "| --- | --- |"]
    lines += [f"| `{name}` | `{file}` |" for name, file in configs.items()]
    lines += ["", "```python", "from datasets import load_dataset", ""]
    for name, file in configs.items():
        arg = "" if name == "default" else f", {name!r}"
        lines.append(f'load_dataset("path/to/this/folder"{arg}, split="train")  # {file}')
    lines += ["```", ""]
    lines.append(
        f"`{KEPT}` holds every kept example with its lineage (`meta`), `removed.jsonl` every "
        f"dropped one with the filter and reason, `{STATS}` the counts below."
    )
    return "\n".join([*lines, ""])


def _models(config: dict) -> str:
    # Every method names its model `model`, and any other it asks `<role>_model`.
    used = {k: v for k, v in config.items() if (k == "model" or k.endswith("_model")) and v}
    if not used:
        return ""
    how = f"backend `{config.get('backend')}`, {config.get('api')} API"
    lines = ["## Models", ""]
    lines += [f"- `{key}`: `{value}` ({how})" for key, value in used.items()]
    return "\n".join([*lines, ""])


def _settings(config: dict, merged: bool) -> str:
    if not config:
        return ""
    shown = {k: v for k, v in config.items() if k not in UNSHOWN and not (merged and k == "seed")}
    if shown.get("base_url"):  # run.json has it redacted already; a shard's copy might not
        # A card is meant to be published: no query string either (some proxies take a key
        # there).
        url = urlsplit(redact_url(shown["base_url"]) or "")
        shown["base_url"] = urlunsplit(url._replace(query="", fragment=""))
    where = "the shards' run.json (they differ only in `seed`)" if merged else f"`{RUN_FILE}`"
    lines = ["## Config", "", f"From {where}; no key is ever recorded.", "", "```json"]
    return "\n".join([*lines, json.dumps(shown, indent=2, ensure_ascii=False), "```", ""])


def _made(spec: MethodSpec | None) -> str:
    """What the funnel's first number counts: a method that only scores reads its examples."""
    return "scored" if spec is not None and spec.options.SCORES else "generated"


def _funnel(stats: dict, made: str = "generated") -> str:
    funnel = stats.get("funnel") or {}
    if not funnel:
        return ""
    stopped = f" Ended: {stats['stopped']}." if stats.get("stopped") else ""
    lines = ["## Funnel", ""]
    lines.append(
        f"{funnel.get('generated', 0):,} {made}, {funnel.get('kept', 0):,} kept, "
        f"{funnel.get('dropped_total', 0):,} dropped.{stopped}"
    )
    if funnel.get("cut_total"):  # parts removed from kept items: a conversation's failed turn
        lines[-1] += f" {funnel['cut_total']:,} parts cut from kept examples (in removed.jsonl)."
    drops = [
        (n, name, reason)
        for name, reasons in (funnel.get("dropped") or {}).items()
        for reason, n in reasons.items()
    ]
    if drops:
        lines += ["", "| filter | reason | dropped |", "| --- | --- | --- |"]
        lines += [f"| {f} | {r} | {n:,} |" for n, f, r in sorted(drops, key=lambda d: -d[0])]
    return "\n".join([*lines, "", *_stages(stats)])


def _scores(stats: dict) -> str:
    """A score stage's verdicts (pipeline/score/): the judge, the histogram, the threshold."""
    s = stats.get("score")
    if not isinstance(s, dict):
        return ""
    low = "no --min-score" if s.get("min_score") is None else f"--min-score {s['min_score']:g}"
    lines = [
        "## Scores",
        "",
        f"Each of {s['examples']:,} examples was judged by `{s['model']}` on the {s['rubric']} "
        "rubric (1-5); "
        f"the verdict is in `meta.scores.{s['rubric']}`. {s['scored']:,} scored, mean "
        f"{s['mean'] if s['mean'] is not None else '-'}; {s['unparseable']:,} unparseable "
        f"verdicts removed; {low} removed {s['below_min_score']:,}.",
        "",
        "| score | examples |",
        "| --- | --- |",
    ]
    lines += [f"| {k} | {v:,} |" for k, v in s["histogram"].items()]
    return "\n".join([*lines, ""])


def _stages(stats: dict) -> list[str]:
    stages = stats.get("stages") or {}
    if not stages:
        return []
    lines = ["| stage | judged | kept |", "| --- | --- | --- |"]
    for name, s in stages.items():
        f = s.get("funnel", {})
        lines.append(f"| {name} | {f.get('generated', 0):,} | {f.get('kept', 0):,} |")
    return [*lines, ""]


def _shards(stats: dict) -> str:
    shards = stats.get("shards") or []
    if not shards:
        return ""
    lines = ["## Shards", "", "| run | seed | kept | requests | USD |", "|---|---|---|---|---|"]
    for s in shards:
        lines.append(
            f"| `{s.get('run')}` | {s.get('seed')} | {s.get('kept')} | {s.get('requests')} | "
            f"{s.get('usd')} |"
        )
    return "\n".join([*lines, ""])


def _spend(stats: dict) -> str:
    requests, tokens, usd, source = _totals(stats)
    lines = ["## Spend", "", "| | |", "| --- | --- |", f"| requests | {requests:,} |"]
    lines.append(f"| prompt tokens | {tokens.get('prompt', 0):,} |")
    lines.append(f"| completion tokens | {tokens.get('completion', 0):,} |")
    lines.append(f"| cost | ${usd:,.4f}{f' ({source})' if source else ''} |")
    return "\n".join([*lines, ""])


def _totals(stats: dict) -> tuple[int, dict, float, str]:
    """Requests, tokens, dollars and the price's source: a run's own, or its shards' sum."""
    if "shards" in stats and "tokens" not in stats:
        shards = stats["shards"]
        tokens = {
            k: sum((s.get("tokens") or {}).get(k, 0) for s in shards)
            for k in ("prompt", "completion")
        }
        return sum(s.get("requests") or 0 for s in shards), tokens, _sum_usd(shards), ""
    cost = stats.get("cost") or {}
    source = (cost.get("price") or {}).get("source", "")
    requests = (stats.get("requests") or {}).get("total", 0)
    return requests, stats.get("tokens") or {}, float(cost.get("usd") or 0.0), source


def _sum_usd(shards: list[dict]) -> float:
    return float(sum(s.get("usd") or 0.0 for s in shards))


def _citation(spec: MethodSpec | None) -> str:
    lines = ["## Citation", ""]
    if spec is None or not (spec.paper or spec.cite):
        lines.append("The method names no paper to cite; cite the work it follows.")
        return "\n".join([*lines, ""])
    if spec.paper:
        lines += [f"If you use this data, cite the method's paper: {spec.paper}.", ""]
    if spec.cite:
        lines += ["```bibtex", spec.cite.strip(), "```"]
    return "\n".join([*lines, ""])


def _config(folder: Path, stats: dict) -> dict[str, Any]:
    """run.json's config; for a merged folder, the first shard's that can still be read."""
    runs = [folder] + [Path(s["run"]) for s in stats.get("shards") or [] if s.get("run")]
    for run in runs:
        doc = _json(run / RUN_FILE)
        if isinstance(doc, dict) and isinstance(doc.get("config"), dict):
            return doc["config"]
    return {}


def _first_method(folder: Path) -> str:
    """The method of the first kept example (a merged folder has no run.json)."""
    try:
        with (folder / KEPT).open(encoding="utf-8") as f:
            return str(json.loads(f.readline() or "{}").get("method", ""))
    except (OSError, ValueError, AttributeError):
        return ""


def _license_set(old: str | None) -> str:
    """The license of the card being replaced, when someone set one."""
    head = old.split("\n---", 1)[0] if old else ""
    found = _LICENSE.search(head)
    return found.group(1).strip() if found else PLACEHOLDER


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _json(path: Path) -> Any:
    text = _read(path)
    try:
        return json.loads(text) if text is not None else None
    except ValueError:
        return None
