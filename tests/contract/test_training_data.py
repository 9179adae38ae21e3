"""Every registered method's data reaches training as it is: a tiny stub run, exported in the
formats training tools read, loads with the `datasets` library (offline), row for row; the run
directory loads by its dataset card's configs; LLaMA-Factory's dataset_info.json names columns
its files have."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import yaml

from pipeline import methods
from pipeline.backends.retry import RetryPolicy
from pipeline.card import CARD
from pipeline.engine.session import Session, run_session
from pipeline.export import export
from pipeline.formats.llama_factory import INFO

EXPORTS = ["jsonl", "sharegpt", "openai", "llama-factory"]
# Each file a row per kept example: the instruction (the user's first turn) and the output.
FIRST = {
    "alpaca.json": lambda row: (row["instruction"], row["output"]),
    "dataset.jsonl": lambda row: (row["instruction"], row["output"]),
    "sharegpt.json": lambda row: (row["conversations"][0]["value"], _said(row, "gpt")),
    "openai.jsonl": lambda row: (_content(row, "user"), _content(row, "assistant")),
}
CONFIGS = {"default": "alpaca.json", "jsonl": "dataset.jsonl", "sharegpt": "sharegpt.json",
           "openai": "openai.jsonl"}  # fmt: skip


def _said(row: dict, speaker: str) -> str:
    return next(t["value"] for t in row["conversations"] if t["from"] == speaker)


def _content(row: dict, role: str) -> str:
    return next(m["content"] for m in row["messages"] if m["role"] == role)


@pytest.fixture(scope="module", params=methods.names())
def exported(request, tmp_path_factory) -> tuple[Path, list[dict]]:
    """A run of the method's example on the stub, with every export written into it."""
    spec = methods.get(request.param)
    out = tmp_path_factory.mktemp(spec.name) / "run"
    config = methods.make_config(spec.name, out=str(out), judge="inline", **spec.example)
    session = Session.open(config, policy=RetryPolicy.no_wait(3))
    asyncio.run(run_session(session, batch=16))
    export(out, EXPORTS)
    kept = [json.loads(line) for line in (out / "kept.jsonl").read_text().splitlines()]
    assert kept, "the example run kept nothing"
    return out, kept


@pytest.mark.parametrize("file", FIRST)
def test_each_export_loads_with_datasets_row_for_row(exported, hf_datasets, file):
    out, kept = exported
    rows = hf_datasets.load_dataset("json", data_files=str(out / file), split="train")
    assert rows.num_rows == len(kept)
    instruction, output = FIRST[file](rows[0])
    assert instruction.startswith(kept[0]["instruction"]) and output == kept[0]["output"]


def test_every_turn_of_a_conversation_loads(exported, hf_datasets):
    out, kept = exported
    rows = hf_datasets.load_dataset("json", data_files=str(out / "openai.jsonl"), split="train")
    for row, example in zip(rows, kept, strict=True):
        turns = example.get("messages") or [
            {"role": "user", "content": row["messages"][0]["content"]},
            {"role": "assistant", "content": example["output"]},
        ]
        assert row["messages"] == turns


def test_the_run_directory_loads_by_its_cards_configs(exported, hf_datasets):
    out, kept = exported
    card = yaml.safe_load((out / CARD).read_text(encoding="utf-8").split("---")[1])
    listed = {c["config_name"]: c["data_files"][0]["path"] for c in card["configs"]}
    chats = bool(kept[0].get("messages"))
    # A conversations run's default is its chat file: alpaca.json has first exchanges only.
    expected = {**CONFIGS, "default": "openai.jsonl", "alpaca": "alpaca.json"} if chats else CONFIGS
    if chats:
        del expected["openai"]
    assert listed == expected  # the export brought the card's configs up to date
    default = hf_datasets.load_dataset(str(out), split="train")
    columns = ["messages"] if chats else ["instruction", "input", "output"]
    assert default.column_names == columns and default.num_rows == len(kept)
    for name in listed:
        assert hf_datasets.load_dataset(str(out), name, split="train").num_rows == len(kept)


def test_llama_factory_entries_name_columns_their_files_have(exported, hf_datasets):
    out, kept = exported
    folder = out / "llama-factory"
    info = json.loads((folder / INFO).read_text(encoding="utf-8"))
    chats = any(sum(m["role"] == "user" for m in e.get("messages", [])) > 1 for e in kept)
    assert list(info) == [out.name, *([f"{out.name}_sharegpt"] if chats else [])]
    for entry in info.values():
        rows = hf_datasets.load_dataset(
            "json", data_files=str(folder / entry["file_name"]), split="train"
        )
        assert set(entry["columns"].values()) <= set(rows.column_names)
        assert rows.num_rows == len(kept)
    alpaca = json.loads((folder / info[out.name]["file_name"]).read_text(encoding="utf-8"))
    answers = [m["content"] for m in kept[0].get("messages", []) if m["role"] == "assistant"]
    assert alpaca[0]["output"] == (answers[-1] if answers else kept[0]["output"])  # the last


def test_the_card_describes_the_method_and_cites_its_paper(exported):
    out, kept = exported
    spec = methods.get(json.loads((out / "run.json").read_text())["config"]["method"])
    text = (out / CARD).read_text(encoding="utf-8")
    card = yaml.safe_load(text.split("---")[1])
    assert card["task_categories"] == ["text-generation"] and card["language"] == ["en"]
    assert card["size_categories"] == ["n<1K"] and spec.name in card["tags"]
    assert f"`{spec.name}` method" in text and (spec.description or spec.summary) in text
    assert spec.paper and spec.paper in text and spec.cite.strip() in text
    assert f"{len(kept):,} kept" in text and "## Spend" in text
    assert '"out"' not in text  # where the run was is no setting of the data
