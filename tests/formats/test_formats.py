"""Every format: hand-made files to records or the exact error; every writer round-trips with
its reader; detection; folders; a run's outputs as any method's input; the export commands."""

import json

import pytest

from pipeline.cli.main import main
from pipeline.errors import ConfigError, InputError
from pipeline.formats import (
    WRITABLE,
    mapped,
    openai_chat,
    read_examples,
    sharegpt,
    superni,
    table,
    write_examples,
)
from pipeline.formats.chat import conversations
from pipeline.formats.detect import UNKNOWN_FIX, detect
from pipeline.formats.niv1 import FIX as NIV1_FIX
from pipeline.formats.registry import FORMATS
from pipeline.methods import make_config
from pipeline.seeds import load_seeds
from pipeline.store import RunDir
from pipeline.types import Example
from tests import helpers

DATA = helpers.DATA / "formats"
HAVE_PYARROW = True
try:
    import pyarrow  # noqa: F401
except ImportError:
    HAVE_PYARROW = False
needs_pyarrow = pytest.mark.skipif(not HAVE_PYARROW, reason="pyarrow is not installed")

# (fixture, format, --map, [(id, start of instruction, input, output)], meta of the first)
VALID = [
    ("alpaca.json", "alpaca", None,
     [("seed_0", "Give an antonym", "early", "late"), ("seed_1", "Name a primary", "", "Blue")],
     {"source": "alpaca.json"}),
    ("self_instruct.jsonl", "self-instruct", None,
     [("seed_task_0", "Give an antonym", "early", "late")],
     {"name": "antonym", "is_classification": False, "source": "self_instruct.jsonl"}),
    ("superni_sentiment.json", "superni", None,
     [("superni_sentiment-pos0", "In this task you read", "The kettle boils fast and looks great "
       "on the counter.", "positive"),
      ("superni_sentiment-pos1", "In this task", "The strap broke on the second day.", "negative"),
      ("sent-1", "In this task", "Comfortable shoes, I wear them every day.", "positive"),
      ("sent-2", "In this task", "The battery dies within an hour.", "negative"),
      ("sent-3", "In this task", "Arrived early and the colour is lovely.", "positive"),
      ("sent-4", "In this task", "Too small, and the seller never replied.", "negative"),
      ("sent-5", "In this task", "Sturdy, quiet and easy to clean.", "positive"),
      ("sent-6", "In this task", "The lid leaks every time.", "negative")],
     {"task": "superni_sentiment", "source": "superni_sentiment.json",
      "categories": ["Sentiment Analysis"], "kind": "positive_example",
      "explanation": "The reviewer praises speed and looks."}),
    ("niv1_capitals_qa.json", "niv1", None,
     [("niv1_capitals_qa-pos0", "Given the name of a country", "France", "Paris"),
      ("niv1_capitals_qa-0", "Given the name", "Japan", "Tokyo"),
      ("niv1_capitals_qa-1", "Given the name", "Canada", "Ottawa"),
      ("niv1_capitals_qa-2", "Given the name", "Kenya", "Nairobi")],
     {"task": "niv1_capitals_qa", "source": "niv1_capitals_qa.json", "title": "Name the capital",
      "kind": "positive_example", "explanation": "Paris is the capital of France."}),
    ("sharegpt.json", "sharegpt", None,
     [("chat-a_0", "Suggest a name for a bakery", "", "Tide & Crumb."),
      ("chat-a_1", "Make it shorter.", "", "Crumb Cove."),
      ("chat-b", "What colour is a ripe banana?", "", "Yellow.")],
     {"conversation": "chat-a", "turn": 0, "source": "sharegpt.json"}),
    ("openai.jsonl", "openai", None,
     [("openai-1", "Convert 2 km to metres.", "", "2000 m."),
      ("openai-2_0", "Name a prime number above 10.", "", "11."),
      ("openai-2_1", "And one above 20?", "", "23.")],
     {"conversation": "openai-1", "turn": 0, "system": "You are terse.",
      "source": "openai.jsonl"}),
    ("dolly.jsonl", "dolly", None,
     [("seed_0", "Which of these are fruits", "", "Apple and pear."),
      ("seed_1", "How tall is the tower?", "The old clock tower in the square is 42 metres "
       "tall and was finished in 1891.", "42 metres.")],
     {"source": "dolly.jsonl", "category": "classification"}),
    ("mapped.jsonl", "mapped", "instruction=question,output=answer,kind=topic",
     [("seed_0", "What is 7 times 6?", "", "42"),
      ("seed_1", "Spell 'necessary' backwards.", "", "yrassecen")],
     {"kind": "arithmetic", "source": "mapped.jsonl"}),
    ("unnatural_full.jsonl", "unnatural", None,
     [("seed_0", "Count the vowels in the word.", "banana", "3"),
      ("seed_1", "How many vowels does banana have?", "", "3")],
     {"stage": "core", "source": "unnatural_full.jsonl", "constraints": "A whole number."}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "fmt", "mapping", "rows", "meta"), VALID, ids=[v[1] for v in VALID]
)
def test_each_format_reads_into_examples(name, fmt, mapping, rows, meta):
    path = DATA / name
    detected = read_examples(path, None, mapping)
    named = read_examples(path, fmt, mapping)
    assert detected == named
    assert mapping is not None or detect(path) == fmt
    got = [(e.id, e.instruction, e.input, e.output) for e in named]
    cut = [(i, ins[: len(r[1])], inp, out) for (i, ins, inp, out), r in zip(got, rows, strict=True)]
    assert cut == rows and len(got) == len(rows)
    assert named[0].meta == meta


def test_mapping_reaches_into_nested_fields_and_keeps_the_rest(tmp_path):
    path = tmp_path / "qa.jsonl"
    rows = [{"q": "Capital of Peru?", "answers": {"text": ["Lima", "lima"]}, "label": 1, "x": [1]}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    mapping = "instruction=q,output=answers.text.0,input=label"
    [example] = load_seeds(path, None, mapping)
    assert (example.instruction, example.input, example.output) == ("Capital of Peru?", "1", "Lima")
    assert example.meta == {"x": [1], "source": "qa.jsonl"}


def test_details_of_task_and_chat_files():
    niv1 = read_examples(DATA / "niv1_capitals_qa.json")
    assert niv1[1].instruction == (
        "Given the name of a country, write the name of its capital city.\n\n"
        "Things to avoid: Do not write the name of the largest city when it is not the capital."
    )  # "-" means no emphasis; negative examples never become examples
    assert "Sydney" not in {e.output for e in niv1}
    sent = read_examples(DATA / "superni_sentiment.json")
    assert sent[4].meta["outputs"] == ["positive", "Positive"]
    chat = read_examples(DATA / "sharegpt.json")
    assert chat[1].meta["context"] == [
        {"role": "user", "content": "Suggest a name for a bakery by the sea."},
        {"role": "assistant", "content": "Tide & Crumb."},
    ]
    assert chat[2].meta["system"] == "Answer in one word."


SUPERNI_DOC = {
    "Definition": ["Say yes or no."],
    "Positive Examples": [{"input": "a", "output": "yes", "explanation": "e"}],
    "Instances": [{"id": "t-1", "input": "b", "output": ["no"]}],
}


def doc(**changes):
    return json.dumps({**SUPERNI_DOC, **changes}, indent=4)


TURN = {"from": "human", "value": "Hi"}
SG = superni.FIX

# (case, file name, content, format, --map, the error after "<path>")
BROKEN = [
    ("superni no definition", "t.json", json.dumps({"Instances": []}, indent=2), "superni", None,
     f": missing 'Definition'; {SG}"),
    ("superni output a number", "t.json",
     doc(Instances=[{"id": "a", "input": "x", "output": ["y"]}, {"id": "b", "output": 3}]),
     None, None, f": 'Instances[1].output' is a number, not a list of strings; {SG}"),
    ("superni empty outputs", "t.json", doc(Instances=[{"id": "a", "output": []}]), None, None,
     f": 'Instances[0].output' is an empty list; {SG}"),
    ("superni example not object", "t.json", doc(**{"Positive Examples": ["x"]}), None, None,
     f": 'Positive Examples[0]' is a string, not a JSON object; {SG}"),
    ("superni negative no output", "t.json", doc(**{"Negative Examples": [{"input": "x"}]}),
     None, None, ": missing 'Negative Examples[0].output'; set \"output\" to a non-empty JSON "
     "string"),
    ("superni duplicate id", "t.json",
     doc(Instances=[{"id": "a", "output": "y"}, {"id": "a", "output": "z"}]), None, None,
     ": Instances[1]: duplicate id 'a' (first used at Instances[0]); give every seed a unique "
     "id, or drop the ids to number them automatically"),
    ("task file malformed", "t.json", '{\n  "Definition": ["x"],\n  "Instances": [\n}\n', None,
     None, ":4: malformed JSON (Expecting value, column 1); a task file is one JSON object; "
     "check the brackets and commas around that line"),
    ("niv1 no instances", "t.json", json.dumps({"Title": "t", "Definition": "d"}, indent=1),
     "niv1", None, f": missing 'Instances'; {NIV1_FIX}"),
    ("niv1 positive output", "t.json", json.dumps(
        {"Definition": "d", "Examples": {"Positive Examples": [{"input": "x"}]},
         "Instances": []}, indent=1), None, None,
     f": missing 'Examples.Positive Examples[0].output'; {NIV1_FIX}"),
    ("sharegpt unknown speaker", "c.json",
     json.dumps([{"id": "c", "conversations": [TURN, {"from": "robot", "value": "x"}]}]), None,
     None, ":1: 'conversations[1].from' is 'robot', not a known speaker; use one of human, "
     "user, gpt, assistant, chatgpt, bard, bing, model, system"),
    ("sharegpt value not text", "c.jsonl",
     json.dumps({"conversations": [TURN, {"from": "gpt", "value": 7}]}) + "\n", None, None,
     ":1: 'conversations[1].value' is a number, not a string; set \"value\" to a non-empty JSON "
     "string"),
    ("sharegpt not a list", "c.jsonl",
     json.dumps({"conversations": [TURN]}) + "\n" + json.dumps({"conversations": "hi"}) + "\n",
     None, None, f":2: 'conversations' is a string, not a list; {sharegpt.FIX}"),
    ("openai tool role", "o.jsonl",
     json.dumps({"messages": [{"role": "user", "content": "x"}, {"role": "tool", "content": ""}]})
     + "\n", None, None,
     ":1: 'messages[1].role' is 'tool'; this reader takes system, user and assistant"),
    ("openai content parts", "o.jsonl",
     json.dumps({"messages": [{"role": "user", "content": [{"type": "text"}]}]}) + "\n", None,
     None, ":1: 'messages[0].content' is a list, not a string; set \"content\" to a non-empty "
     "JSON string"),
    ("openai record not object", "o.jsonl", '[["x"]]', "openai", None,
     f":1: expected a JSON object, got a list; {openai_chat.FIX}"),
    ("dolly no instruction", "d.jsonl",
     '{"instruction": "a", "response": "b"}\n{"context": "c", "response": "d"}\n', None, None,
     ":2: missing 'instruction'; set \"instruction\" to a non-empty JSON string"),
    ("mapped field missing", "m.jsonl", '{"q": "a", "a": "b"}\n{"a": "c"}\n', None,
     "instruction=q,output=a", f":2: missing 'q' (named by --map); {mapped.FIX}"),
    ("mapped value a list", "m.jsonl", '{"q": "a", "a": ["b"]}\n', "mapped",
     "instruction=q,output=a", f":1: 'a' is a list, not a string; {mapped.FIX}"),
    ("unnatural instance", "u.jsonl",
     json.dumps({"instruction": "i", "instances": [{"constraints": "c"}, 5]}) + "\n", None, None,
     ":1: 'instances[1]' is a number, not a JSON object; write each record as {\"instruction\": "
     "\"...\", \"instances\": [{\"input\": \"...\", \"constraints\": \"...\", \"output\": "
     "\"...\"}], \"reformulations\": [...]}"),
    ("jsonl bad json column", "r.jsonl",
     '{"instruction": "i", "method": "m", "meta_x_json": "{oops"}\n', None, None,
     ":1: 'meta_x_json' is not valid JSON (Expecting property name enclosed in double quotes); "
     "re-export the file"),
    ("unknown record", "x.jsonl", '{"question": "q", "answer": "a"}\n', None, None,
     f":1: unrecognised record (fields: question, answer); {UNKNOWN_FIX}"),
    ("seed without instruction", "m.jsonl", '{"a": "b"}\n', None, "output=a",
     ":1: no instruction; map a field to it with --map instruction=FIELD"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "content", "fmt", "mapping", "error"),
    [b[1:] for b in BROKEN],
    ids=[b[0] for b in BROKEN],
)
def test_broken_files_give_one_line_naming_file_record_and_field(
    tmp_path, name, content, fmt, mapping, error
):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_seeds(path, fmt, mapping)
    assert str(info.value) == f"{path}{error}"
    assert info.value.exit_code == 2 and "\n" not in str(info.value)


CONFIG_ERRORS = [
    ({"seeds_format": "csv"}, "unknown --seeds-format 'csv'; use one of self-instruct, alpaca"),
    ({"seeds_map": "instruction"}, "--map 'instruction': write TARGET=FIELD pairs"),
    ({"seeds_map": "a=b,a=c"}, "--map names 'a' twice"),
    ({"seeds_map": "a=b", "seeds_format": "dolly"}, "--map reads plain JSONL; drop"),
    ({"method": "evol-instruct", "from_format": "xml"}, "unknown --from-format 'xml'"),
]


@pytest.mark.parametrize(("options", "message"), CONFIG_ERRORS)
def test_format_options_are_checked_when_the_config_is_built(options, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("[", r"\[")):
        make_config(out="x", **options)


@pytest.mark.parametrize(
    ("method", "option"),
    [("self-instruct", "seeds_format"), ("evol-instruct", "from_format")],
)
def test_new_options_keep_old_fingerprints_and_count_when_set(method, option):
    plain = make_config(method, out="x")
    assert option not in plain.identity()
    assert make_config(method, out="x", **{option: "alpaca"}).fingerprint() != plain.fingerprint()


def test_folder_reads_every_data_file_in_name_order_with_unique_ids(tmp_path):
    for name in ("b.json", "a.jsonl", "notes.md", ".hidden.json"):
        (tmp_path / name).write_text((DATA / "alpaca.json").read_text(), encoding="utf-8")
    (tmp_path / "a.jsonl").write_text((DATA / "dolly.jsonl").read_text(), encoding="utf-8")
    examples = load_seeds(tmp_path)
    assert [e.meta["source"] for e in examples] == ["a.jsonl"] * 2 + ["b.json"] * 2
    assert [e.id for e in examples] == ["seed_0", "seed_1", "seed_2", "seed_3"]


@pytest.mark.parametrize(
    ("files", "error"),
    [
        ({}, "is a directory that has no kept.jsonl and no .json, .jsonl or .parquet files"),
        ({"run.json": "{}"}, "is a run directory that has no kept.jsonl"),
        ({"a.jsonl": '{"id": "x", "instruction": "i", "output": "o"}\n', "b.jsonl":
          '{"id": "x", "instruction": "j", "output": "p"}\n'}, "(first used on line 1 of a.jsonl)"),
    ],
)  # fmt: skip
def test_folder_errors(tmp_path, files, error):
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=error.replace("(", r"\(").replace(")", r"\)")):
        load_seeds(tmp_path)


# --- writers and readers ------------------------------------------------------------------

PLAIN = [
    Example("Name a colour.", "", "Blue", "p1", "self-instruct",
            {"round": 2, "score": 0.5, "ok": True, "demos": ["a", "b"], "pairs": [["x", 0.1]],
             "note_json": "kept as JSON", "maybe": None, "mixed": 1}),
    Example("Sort the words.", "pear, fig", "fig, pear", "p2", "evol-instruct",
            {"round": 3, "score": 1.0, "ok": False, "demos": [], "mixed": "one", "só": "ü"}),
]  # fmt: skip


def every_kind():
    """Plain examples with varied meta, a multi-turn chat, and a Super-NI task."""
    return (
        PLAIN
        + read_examples(DATA / "sharegpt.json")
        + read_examples(DATA / "superni_sentiment.json")
    )


def chat_view(examples):
    return [(turns, system) for _, system, turns in conversations(examples)]


PROJECTIONS = {
    "alpaca": lambda xs: [e.to_alpaca() for e in xs],
    "dolly": lambda xs: [(e.to_alpaca(), e.meta.get("category", "")) for e in xs],
    "sharegpt": lambda xs: [(i, *rest) for i, *rest in conversations(xs)],
    "openai": chat_view,
    "superni": lambda xs: sorted(
        (e.id, e.instruction, e.input, e.output, e.meta.get("kind"), e.meta.get("outputs"))
        for e in xs
    ),
    "jsonl": lambda xs: xs,
    "parquet": lambda xs: xs,
}


def snapshot(path):
    if path.is_dir():
        return {p.name: p.read_bytes() for p in sorted(path.iterdir())}
    return path.read_bytes()


# llama-factory writes a bundle for a trainer (tests/formats/test_llama_factory.py), no format
# of its own to read back.
ROUND_TRIP = [f for f in WRITABLE if FORMATS[f].read is not None]


@pytest.mark.parametrize(
    "fmt", [pytest.param(f, marks=needs_pyarrow) if f == "parquet" else f for f in ROUND_TRIP]
)
def test_every_writer_round_trips_with_its_reader(tmp_path, fmt):
    examples = every_kind()
    path = tmp_path / FORMATS[fmt].filename
    write_examples(examples, fmt, path)
    again = read_examples(path, fmt)
    project = PROJECTIONS[fmt]
    assert project(again) == project(examples)
    first = snapshot(path)
    write_examples(again, fmt, path)  # what was read writes the very same bytes
    assert snapshot(path) == first
    assert read_examples(path) == again  # and detection finds the format
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no temp files left"


def test_flat_rows_have_one_type_a_column(tmp_path):
    kinds, rows = table.to_rows(PLAIN)
    assert kinds == {
        "round": "int", "score": "float", "ok": "bool", "demos": "list_str", "pairs": "json",
        "note_json": "json", "maybe": "json", "mixed": "json", "só": "str",
    }  # fmt: skip
    assert all(list(r) == list(rows[0]) for r in rows)
    assert rows[1]["meta_pairs_json"] is None and rows[0]["meta_mixed_json"] == "1"


def test_openai_system_prompt_option(tmp_path):
    path = tmp_path / "o.jsonl"
    write_examples(every_kind(), "openai", path, system="Be brief.")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert {line["messages"][0]["content"] for line in lines} == {"Be brief."}
    assert lines[0]["messages"][1:] == [
        {"role": "user", "content": "Name a colour."},
        {"role": "assistant", "content": "Blue"},
    ]
    assert lines[1]["messages"][1]["content"] == "Sort the words.\n\npear, fig"


def test_superni_groups_examples_into_task_files(tmp_path):
    write_examples(every_kind(), "superni", tmp_path / "tasks")
    names = sorted(p.name for p in (tmp_path / "tasks").iterdir())
    assert names == ["chat-a_0.json", "chat-a_1.json", "chat-b.json", "p1.json", "p2.json",
                     "superni_sentiment.json"]  # fmt: skip
    task = json.loads((tmp_path / "tasks" / "superni_sentiment.json").read_text())
    assert len(task["Instances"]) == 6 and len(task["Positive Examples"]) == 2
    assert task["Instances"][2]["output"] == ["positive", "Positive"]


@needs_pyarrow
def test_parquet_and_jsonl_have_the_same_schema(tmp_path):
    import pyarrow.json as paj
    import pyarrow.parquet as pq

    write_examples(PLAIN, "jsonl", tmp_path / "d.jsonl")
    write_examples(PLAIN, "parquet", tmp_path / "d.parquet")
    assert (
        paj.read_json(tmp_path / "d.jsonl").schema == pq.read_table(tmp_path / "d.parquet").schema
    )


def test_parquet_without_pyarrow_names_the_install(tmp_path, monkeypatch):
    import builtins

    real = builtins.__import__

    def no_pyarrow(name, *args, **kwargs):
        if name.startswith("pyarrow"):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    with pytest.raises(ConfigError, match=r'pip install "instructgen\[parquet\]"'):
        write_examples(PLAIN, "parquet", tmp_path / "d.parquet")


# --- one method's output as another's input -----------------------------------------------


def fake_run(path, examples):
    """A finished run directory, as the runner leaves it."""
    path.mkdir()
    (path / "run.json").write_text("{}")
    RunDir(path).write_outputs(examples, [], {})
    return path


def test_a_run_directory_is_seeds_as_before_and_keeps_lineage_when_asked(tmp_path):
    run = fake_run(tmp_path / "run", PLAIN)
    as_seeds = load_seeds(run)
    assert [(e.id, e.instruction, e.method, e.meta) for e in as_seeds] == [
        ("p1", "Name a colour.", "seed", {"source": "kept.jsonl"}),
        ("p2", "Sort the words.", "seed", {"source": "kept.jsonl"}),
    ]
    assert load_seeds(run, "jsonl") == PLAIN
    for fmt in ("alpaca", "sharegpt", "openai", "dolly", "jsonl"):
        write_examples(PLAIN, fmt, tmp_path / f"x.{fmt}.json")
        assert [e.output for e in load_seeds(tmp_path / f"x.{fmt}.json")] == ["Blue", "fig, pear"]


# --- commands ------------------------------------------------------------------------------


def test_export_command_writes_each_format_into_the_run(tmp_path, capsys):
    run = fake_run(tmp_path / "run", every_kind())
    code = main(["export", str(run), "--format", "sharegpt", "--format", "superni"])
    assert code == 0
    assert (
        f"wrote {len(every_kind())} examples to {run / 'sharegpt.json'}" in capsys.readouterr().out
    )
    assert (run / "superni" / "superni_sentiment.json").is_file()
    assert load_seeds(run) == load_seeds(run / "kept.jsonl")  # exports never read as seeds


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--format", "csv"], "unknown --format 'csv'; use one of alpaca"),
        (["--format", "alpaca", "--format", "dolly", "--out", "x"], "--out names one file"),
        (["--format", "alpaca", "--from-format", "xml"], "unknown --from-format 'xml'"),
    ],
)
def test_export_command_errors(tmp_path, capsys, args, error):
    run = fake_run(tmp_path / "run", PLAIN)
    assert main(["export", str(run), *args]) == 2
    err = capsys.readouterr().err
    assert error in err and len(err.strip().splitlines()) == 1


def test_export_of_a_data_file_needs_out(tmp_path, capsys):
    source = DATA / "sharegpt.json"
    assert main(["export", str(source), "--format", "alpaca"]) == 2
    assert "pass --out PATH" in capsys.readouterr().err
    out = tmp_path / "a.json"
    assert main(["export", str(source), "--format", "alpaca", "--out", str(out)]) == 0
    assert len(json.loads(out.read_text())) == 3


def test_run_with_export_and_seeds_in_another_format(tmp_path, capsys):
    out = tmp_path / "r"
    args = ["run", "self-instruct", "--out", str(out), "--no-prefect", "--quiet", "--judge",
            "inline", "--target", "5", "--seeds", str(DATA / "superni_sentiment.json"),
            "--export", "jsonl", "--export", "openai"]  # fmt: skip
    assert main(args) == 0
    kept = (out / "kept.jsonl").read_text().splitlines()
    assert len((out / "dataset.jsonl").read_text().splitlines()) == len(kept) == 5
    assert len((out / "openai.jsonl").read_text().splitlines()) == 5
    assert "wrote 5 examples to" in capsys.readouterr().out


def test_run_refuses_an_unknown_export_before_writing(tmp_path, capsys):
    out = tmp_path / "r"
    args = ["run", "unnatural", "--out", str(out), "--no-prefect", "--export", "xml"]
    assert main(args) == 2
    assert "unknown --export 'xml'" in capsys.readouterr().err
    assert not out.exists()
