import dataclasses
import itertools
import json
import re
import string

import pytest
from rouge_score import rouge_scorer

from pipeline.errors import InputError
from pipeline.seeds import MAX_LINE_BYTES, load_seeds

BLOCKED = [
    "image", "images", "graph", "graphs", "picture", "pictures", "file", "files", "map", "maps",
    "draw", "plot", "go to", "video", "audio", "music", "flowchart", "diagram",
]  # fmt: skip


@pytest.fixture(scope="module")
def shipped():
    return load_seeds()


def test_shipped_seeds_load(shipped):
    n = len(shipped)
    assert n >= 130
    assert [s.id for s in shipped] == [f"seed_task_{i}" for i in range(n)]
    names = [s.meta["name"] for s in shipped]
    assert len(set(names)) == n
    assert all(re.fullmatch(r"[a-z0-9_]+", name) for name in names)
    assert 0.35 <= sum(bool(s.input) for s in shipped) / n <= 0.45
    assert 0.20 <= sum(s.meta["is_classification"] for s in shipped) / n <= 0.26
    assert {s.method for s in shipped} == {"seed"}
    assert {s.meta["source"] for s in shipped} == {"seed_tasks.jsonl"}
    assert all(s.output for s in shipped)
    assert sum(len(s.output.split()) < 100 for s in shipped) / n >= 0.9


ALPACA_RULES = [
    ("4 to 150 words", lambda text: 4 <= len(text.split()) <= 150),
    (
        "no blocked word",
        lambda text: not any(re.search(rf"\b{w}\b", text, re.IGNORECASE) for w in BLOCKED),
    ),
    ("not 'Write a program'", lambda text: not text.startswith("Write a program")),
    ("no leading punctuation", lambda text: text[0] not in string.punctuation),
    ("ASCII first char", lambda text: text[0].isascii()),
]


@pytest.mark.parametrize(("rule", "passes"), ALPACA_RULES, ids=[r[0] for r in ALPACA_RULES])
def test_shipped_instructions_pass_alpaca_rules(shipped, rule, passes):
    assert [s.instruction for s in shipped if not passes(s.instruction)] == []


def test_shipped_instructions_are_novel_under_rouge_l(shipped):
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    pairs = itertools.combinations([s.instruction for s in shipped], 2)
    too_close = [(a, b) for a, b in pairs if scorer.score(a, b)["rougeL"].fmeasure > 0.7]
    assert too_close == []


def si(i, **changes):
    """One self-instruct JSONL line; a change to None drops the key."""
    rec = {
        "id": f"seed_task_{i}",
        "name": f"task_{i}",
        "instruction": f"Answer question number {i} briefly.",
        "instances": [{"input": "", "output": f"Answer {i}."}],
        "is_classification": False,
    }
    rec.update(changes)
    return json.dumps({k: v for k, v in rec.items() if v is not None}) + "\n"


def alp(i, **changes):
    rec = {"instruction": f"Answer question number {i} briefly.", "input": "", "output": "A."}
    rec.update(changes)
    return json.dumps(rec) + "\n"


OK1, OK2 = si(0), si(1)
LIST_ITEM = '  {"instruction": "Name three primary colors.", "input": "", "output": "Red."}'
HUGE = '{"instruction": "' + "a" * MAX_LINE_BYTES + '"}\n'

# (case, file content: text, bytes, "MISSING" or "DIR"; line; problem; fix)
BAD_INPUTS = [
    ("missing file", "MISSING", None, "no such file", "check the path"),
    ("directory", "DIR", None, "is a directory", "seed_tasks.jsonl"),
    ("empty file", "", None, "the file is empty", '{"instruction"'),
    ("blank lines only", "\n  \n\n", None, "the file is empty", '{"instruction"'),
    ("empty json list", "[]\n", None, "the file is empty", '{"instruction"'),
    ("non-utf8 bytes", OK1.encode() + b'{"instruction": "caf\xe9"}\n', 2, "not UTF-8", "UTF-8"),
    ("malformed json", OK1 + OK2 + '{"instruction": "x",\n', 3, "malformed JSON", "JSON object"),
    ("malformed after blanks", "\n\n" + OK1 + "{oops}\n", 4, "malformed JSON", "JSON object"),
    ("not json at all", "hello\n", 1, "malformed JSON", "JSON list"),
    ("list item malformed", f"[\n{LIST_ITEM},\n  {{oops}}\n]\n", 3, "malformed JSON", "JSON"),
    ("list comma missing", f"[\n{LIST_ITEM}\n{LIST_ITEM}\n]\n", 3, "expected ','", "JSON"),
    ("list unclosed", f"\n[\n{LIST_ITEM},\n{LIST_ITEM}\n", 4, "expected ','", "JSON"),
    ("text after list", f"[\n{LIST_ITEM}\n]\nmore\n", 4, "extra text", "JSON"),
    ("record not object", OK1 + '["a", "list"]\n', 2, "got a list", '{"instruction"'),
    ("list item not object", f"[\n{LIST_ITEM},\n  7\n]", 3, "got a number", '{"instruction"'),
    ("instruction missing", OK1 + si(1, instruction=None), 2, "missing 'instruction'", "set"),
    ("instruction empty", si(0, instruction="  "), 1, "'instruction' is empty", "non-empty"),
    ("instruction not str", OK1 + si(1, instruction=5), 2, "not a string", "JSON string"),
    ("alpaca instr. missing", alp(0) + '{"input": "", "output": "x"}\n', 2, "missing", "set"),
    ("instances missing", OK1 + si(1, instances=None), 2, "missing 'instances'", '"instances"'),
    ("instances empty", OK1 + OK2 + si(2, instances=[]), 3, "is empty", '"instances"'),
    ("instances not list", si(0, instances={"output": "x"}), 1, "not a list", '"instances"'),
    ("instance not object", si(0, instances=["x"]), 1, "a string without", '"instances"'),
    ("instance no output", si(0, instances=[{"input": ""}]), 1, "without an 'output'", "output"),
    ("output not str", si(0, instances=[{"output": 3}]), 1, "'instances[0].output'", "string"),
    ("alpaca then self-inst.", alp(0) + si(1), 2, "has 'instances'", '{"instruction"'),
    ("duplicate ids", OK1 + OK2 + si(2, id="seed_task_0"), 3, "first used on line 1", "unique"),
    ("id of wrong type", si(0, id=[1]), 1, "'id' is a list", "drop it"),
    ("line over 1 MB", OK1 + HUGE + OK2, 2, "longer than 1 MB", "shorten"),
]


@pytest.mark.parametrize(
    ("content", "line", "problem", "fix"),
    [c[1:] for c in BAD_INPUTS],
    ids=[c[0] for c in BAD_INPUTS],
)
def test_bad_input_names_file_line_and_fix(tmp_path, content, line, problem, fix):
    path = tmp_path / "seeds.jsonl"
    if content == "DIR":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content != "MISSING":
        path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_seeds(path)
    message = str(info.value)
    where = f"{path}:{line}: " if line is not None else f"{path}: "
    assert message.startswith(where)
    assert info.value.line == line
    assert info.value.exit_code == 2
    assert "\n" not in message
    stated, _, remedy = message[len(where) :].partition("; ")
    assert problem in stated
    assert fix in remedy


SEEDS = [
    ("Sort the words alphabetically.", "pear, apple, fig", "apple, fig, pear", False),
    ("Is 17 a prime number?", "", "Yes", True),
    ("Suggest a name for a grey kitten.", "", "Pebble", False),
]


def write_formats(tmp_path, with_ids):
    """The same seeds as self-instruct JSONL, Alpaca JSON (indented) and Alpaca JSONL."""
    si_rows, alpaca_rows = [], []
    for i, (instruction, inp, out, cls) in enumerate(SEEDS):
        ident = {"id": f"seed_task_{i}"} if with_ids else {}
        extra = {**ident, "name": f"seed_{i}_name", "is_classification": cls}
        inst = [{"input": inp, "output": out}, {"input": "ignored", "output": "ignored"}]
        si_rows.append({**extra, "instruction": instruction, "instances": inst})
        alpaca_rows.append({**extra, "instruction": instruction, "input": inp, "output": out})
    paths = [tmp_path / n for n in ("seed_tasks.jsonl", "alpaca.json", "alpaca.jsonl")]
    paths[0].write_text("".join(json.dumps(r) + "\n" for r in si_rows), encoding="utf-8")
    paths[1].write_text(json.dumps(alpaca_rows, indent=2), encoding="utf-8")
    paths[2].write_text("".join(json.dumps(r) + "\n" for r in alpaca_rows), encoding="utf-8")
    return paths


@pytest.mark.parametrize(("with_ids", "id_format"), [(True, "seed_task_{}"), (False, "seed_{}")])
def test_three_formats_load_to_the_same_examples(tmp_path, with_ids, id_format):
    paths = write_formats(tmp_path, with_ids)
    loaded = [load_seeds(p) for p in paths]
    for path, examples in zip(paths, loaded, strict=True):
        assert {e.meta["source"] for e in examples} == {path.name}
    bare = [[dataclasses.replace(e, meta={**e.meta, "source": ""}) for e in x] for x in loaded]
    assert bare[0] == bare[1] == bare[2]
    first = bare[0]
    assert [(e.instruction, e.input, e.output) for e in first] == [s[:3] for s in SEEDS]
    assert [e.id for e in first] == [id_format.format(i) for i in range(len(SEEDS))]
    assert [e.meta["is_classification"] for e in first] == [s[3] for s in SEEDS]
    assert {e.method for e in first} == {"seed"}


TOLERATED = [
    (
        "bom, crlf, blank lines",
        "\ufeff" + alp(0, input=" padded ") + "\r\n\r\n" + alp(1),
        [("padded", "A.", "seed_0"), ("", "A.", "seed_1")],
    ),
    (
        "input or output left out",
        '[{"instruction": "Answer question number 0 briefly.", "output": "A."},\n'
        ' {"instruction": "Answer question number 1 briefly.", "input": "B"}]',
        [("", "A.", "seed_0"), ("B", "", "seed_1")],
    ),
    (
        "self-instruct without name",
        si(0, name=None, is_classification=None) + si(1, name=None, is_classification=None),
        [("", "Answer 0.", "seed_task_0"), ("", "Answer 1.", "seed_task_1")],
    ),
]


@pytest.mark.parametrize(
    ("content", "expected"), [c[1:] for c in TOLERATED], ids=[c[0] for c in TOLERATED]
)
def test_tolerated_variations(tmp_path, content, expected):
    path = tmp_path / "s.jsonl"
    path.write_text(content, encoding="utf-8")
    examples = load_seeds(str(path))
    assert [(e.input, e.output, e.id) for e in examples] == expected
    assert [e.instruction for e in examples] == [
        f"Answer question number {i} briefly." for i in (0, 1)
    ]
    assert [e.meta for e in examples] == [{"source": "s.jsonl"}] * 2
