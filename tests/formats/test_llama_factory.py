"""LLaMA-Factory's export: which files and dataset_info.json entries each kind of data gets,
that the entries' columns are the files' keys (loaded with `datasets`), that an existing
dataset_info.json keeps its other entries, and the command's errors."""

from __future__ import annotations

import dataclasses
import json

import pytest

from pipeline.cli.main import main
from pipeline.formats import read_examples, write_examples
from pipeline.formats.llama_factory import INFO, TAGS
from pipeline.types import Example
from tests.helpers import DATA

CHATS = read_examples(DATA / "formats" / "sharegpt.json")  # two exchanges, and a system prompt
PAIRS = [
    Example("Name a colour.", "", "Blue", "p1", "m"),
    Example("Sort the words.", "pear, fig", "fig, pear", "p2", "m"),
]


def write(tmp_path, examples, chat="auto", name="mine"):
    folder = tmp_path / "lf"
    write_examples(examples, "llama-factory", folder, name=name, chat=chat)
    return folder, json.loads((folder / INFO).read_text(encoding="utf-8"))


# (data, --llama-factory-format, the entries written, the alpaca entry's columns beyond the three)
CASES = [
    ("pairs", "auto", ["mine"], []),
    ("pairs", "alpaca", ["mine"], []),
    ("pairs", "sharegpt", ["mine", "mine_sharegpt"], []),
    ("chats", "auto", ["mine", "mine_sharegpt"], ["system", "history"]),
    ("chats", "alpaca", ["mine"], ["system", "history"]),
]


@pytest.mark.parametrize(("data", "chat", "entries", "extra"), CASES)
def test_which_entries_each_kind_of_data_gets(tmp_path, data, chat, entries, extra):
    folder, info = write(tmp_path, PAIRS if data == "pairs" else CHATS, chat)
    assert list(info) == entries
    files = sorted([INFO, *(f"{e}.json" for e in entries)])
    assert sorted(p.name for p in folder.iterdir()) == files
    assert list(info["mine"]["columns"]) == ["prompt", "query", "response", *extra]


def test_single_pairs_are_the_runs_alpaca_rows(tmp_path):
    folder, info = write(tmp_path, PAIRS)
    rows = json.loads((folder / info["mine"]["file_name"]).read_text(encoding="utf-8"))
    assert rows == [e.to_alpaca() for e in PAIRS]


def test_a_conversation_is_its_last_exchange_with_the_rest_as_history(tmp_path):
    folder, info = write(tmp_path, CHATS)
    rows = json.loads((folder / "mine.json").read_text(encoding="utf-8"))
    assert rows[0] == {
        "instruction": "Make it shorter.", "input": "", "output": "Crumb Cove.", "system": "",
        "history": [["Suggest a name for a bakery by the sea.", "Tide & Crumb."]],
    }  # fmt: skip
    chats = json.loads((folder / "mine_sharegpt.json").read_text(encoding="utf-8"))
    assert [t["from"] for t in chats[0]["conversations"]] == ["human", "gpt", "human", "gpt"]
    assert chats[1]["system"] == "Answer in one word."
    entry = info["mine_sharegpt"]
    assert entry["tags"] == TAGS and entry["formatting"] == "sharegpt"


@pytest.mark.parametrize("data", ["pairs", "chats"])
def test_entries_name_columns_and_roles_the_files_have(tmp_path, hf_datasets, data):
    folder, info = write(tmp_path, PAIRS if data == "pairs" else CHATS, "sharegpt")
    for entry in info.values():
        rows = hf_datasets.load_dataset(
            "json", data_files=str(folder / entry["file_name"]), split="train"
        )
        assert set(entry["columns"].values()) <= set(rows.column_names)
        assert rows.num_rows == 2
        if entry["formatting"] == "sharegpt":
            tags = entry["tags"]
            speakers = {t[tags["role_tag"]] for row in rows for t in row["conversations"]}
            assert speakers <= {tags["user_tag"], tags["assistant_tag"]}


@pytest.mark.skipif(
    "messages" not in {f.name for f in dataclasses.fields(Example)},
    reason="Example has no messages field",
)
def test_an_example_holding_a_whole_conversation_counts_as_multi_turn(tmp_path):
    turns = [("user", "Hi."), ("assistant", "Hello."), ("user", "Bye."), ("assistant", "Bye!")]
    messages = tuple({"role": r, "content": c} for r, c in turns)
    chat = Example("Hi.", "", "Hello.", "c1", "m", messages=messages)
    folder, info = write(tmp_path, [chat])
    assert list(info) == ["mine", "mine_sharegpt"]
    rows = json.loads((folder / "mine.json").read_text(encoding="utf-8"))
    assert rows[0]["history"] == [["Hi.", "Hello."]] and rows[0]["output"] == "Bye!"


def test_an_existing_dataset_info_keeps_its_other_entries(tmp_path):
    folder = tmp_path / "lf"
    folder.mkdir()
    theirs = {"alpaca_en_demo": {"file_name": "alpaca_en_demo.json"}, "mine": {"old": True}}
    (folder / INFO).write_text(json.dumps(theirs), encoding="utf-8")
    _, info = write(tmp_path, PAIRS)
    assert list(info) == ["alpaca_en_demo", "mine"]
    assert info["alpaca_en_demo"] == theirs["alpaca_en_demo"] and "old" not in info["mine"]
    assert not [p for p in folder.iterdir() if p.name.startswith(".")], "no temp files left"


def fake_run(path):
    path.mkdir()
    (path / "run.json").write_text("{}")
    (path / "kept.jsonl").write_text("".join(json.dumps(e.to_dict()) + "\n" for e in PAIRS))
    return path


def test_the_export_command_into_a_run_and_into_a_trainers_folder(tmp_path, capsys):
    run = fake_run(tmp_path / "si-run")
    assert main(["export", str(run), "--format", "llama-factory"]) == 0
    assert json.loads((run / "llama-factory" / INFO).read_text())["si-run"]["file_name"] == (
        "si-run.json"
    )
    data = tmp_path / "LLaMA-Factory" / "data"
    args = ["--out", str(data), "--dataset-name", "ours", "--llama-factory-format", "sharegpt"]
    assert main(["export", str(run), "--format", "llama-factory", *args]) == 0
    assert list(json.loads((data / INFO).read_text())) == ["ours", "ours_sharegpt"]
    assert f"wrote 2 examples to {data}" in capsys.readouterr().out


# (what is wrong, arguments after RUN, what the one-line error says)
ERRORS = [
    ("dataset_info.json is not JSON", lambda p: (p / INFO).write_text("{oops"),
     ["--out", "{out}"], f"{INFO}: is not valid JSON; fix it or move it away"),
    ("dataset_info.json is a list", lambda p: (p / INFO).write_text("[]"),
     ["--out", "{out}"], f"{INFO}: is not a JSON object of datasets"),
    ("--out is a file", lambda p: (p / "file").write_text("x"),
     ["--out", "{out}/file"], "is a file; llama-factory writes a folder"),
    ("a name no file can have", None, ["--dataset-name", "my data"], "pass --dataset-name NAME"),
    ("an unknown --llama-factory-format", None, ["--llama-factory-format", "both"],
     "use one of auto, alpaca, sharegpt"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("setup", "args", "error"), [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS]
)
def test_export_errors_are_one_line_and_exit_2(tmp_path, capsys, setup, args, error):
    run = fake_run(tmp_path / "run")
    out = tmp_path / "out"
    out.mkdir()
    if setup is not None:
        setup(out)
    args = [a.replace("{out}", str(out)) for a in args]
    assert main(["export", str(run), "--format", "llama-factory", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert error in err and len(err.splitlines()) == 1, err


def test_its_options_without_the_format_are_an_error(tmp_path, capsys):
    run = fake_run(tmp_path / "run")
    assert main(["export", str(run), "--format", "sharegpt", "--dataset-name", "x"]) == 2
    assert "--dataset-name is for --format llama-factory" in capsys.readouterr().err
