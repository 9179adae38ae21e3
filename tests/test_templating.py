"""Templating labelled tasks: our template files, rendering, OPTIONS for classification only,
the per-task cap, few-shot demonstrations, seeded reproducibility, the `template` command."""

import json
from pathlib import Path

import pytest

from pipeline.cli.main import main
from pipeline.errors import InputError
from pipeline.formats import read_examples
from pipeline.task_mix import MixOptions, Task, group_tasks, infer_type, mix
from pipeline.templating import FIX, TYPES, Template, load_templates, options_suffix, render
from pipeline.types import Example

DATA = Path(__file__).parent / "data" / "formats"
TEMPLATES = load_templates()


def test_we_ship_about_ten_templates_a_type_with_unique_ids():
    assert sorted(TEMPLATES) == sorted(TYPES)
    assert all(len(TEMPLATES[t]) >= 10 for t in TYPES)
    ids = [t.id for ts in TEMPLATES.values() for t in ts]
    assert len(ids) == len(set(ids))
    # some show the task's own definition, some do not; what to extract only the task can say
    shown = {k: sum(t.needs_definition for t in ts) for k, ts in TEMPLATES.items()}
    assert shown == {"classification": 3, "extraction": 10, "qa": 4, "summarization": 3,
                     "rewriting": 6}  # fmt: skip


INSTANCE = Example("Say if it rains.", "Grey clouds, wet streets.", "yes", "i1")
DEMO = Example("Say if it rains.", "Blue sky.", "no", "d1")
SPLIT = Template("t", "classification", "$definition", "Text: $input", "Label:")
WHOLE = Template("w", "classification", "$input\n\nWhich one?", "", "Answer:")
OPTS = "\n\nOPTIONS:\n- no\n- yes"

RENDERS = [
    ("split zero-shot", SPLIT, [], [], ("Say if it rains.", "Text: Grey clouds, wet streets.")),
    ("split options", SPLIT, ["no", "yes"], [],
     ("Say if it rains.", f"Text: Grey clouds, wet streets.{OPTS}")),
    ("whole zero-shot", WHOLE, ["no", "yes"], [],
     (f"Grey clouds, wet streets.\n\nWhich one?{OPTS}", "")),
    ("split few-shot", SPLIT, ["no", "yes"], [DEMO],
     ("Say if it rains.",
      f"Text: Blue sky.{OPTS}\nLabel: no\n\nText: Grey clouds, wet streets.{OPTS}\nLabel:")),
    ("whole few-shot", WHOLE, [], [DEMO],
     ("Blue sky.\n\nWhich one?\nAnswer: no\n\nGrey clouds, wet streets.\n\nWhich one?\nAnswer:",
      "")),
]  # fmt: skip


@pytest.mark.parametrize(
    ("template", "labels", "demos", "expected"),
    [r[1:] for r in RENDERS],
    ids=[r[0] for r in RENDERS],
)
def test_render(template, labels, demos, expected):
    assert render(template, INSTANCE, labels, demos) == expected


def task(name, kind, n, labels=("yes", "no"), shared=True):
    instances = [
        Example(
            "Answer the task." if shared else f"Instruction {i}.",
            f"input number {i}",
            labels[i % len(labels)] if kind == "classification" else f"output {i}",
            f"{name}-{i}",
        )
        for i in range(n)
    ]
    return Task(name, kind, instances)


ALL_TYPES = [task(f"t_{kind}", kind, 12) for kind in TYPES]


def test_options_suffix_only_for_classification():
    kept, drops, _ = mix(ALL_TYPES, TEMPLATES, MixOptions(per_task=12, few_shot=0.5))
    assert len(kept) == 60 and not drops
    for e in kept:
        has_options = "OPTIONS:\n- no\n- yes" in e.instruction + e.input
        assert has_options == (e.meta["task_type"] == "classification"), e.id
        assert ("options" in e.meta) == has_options
    assert options_suffix(["a", "b"]) == "\n\nOPTIONS:\n- a\n- b"


@pytest.mark.parametrize(
    ("per_task", "sizes"), [(10, {"big": 10, "small": 3}), (2, {"big": 2, "small": 2})]
)
def test_per_task_cap(per_task, sizes):
    tasks = [task("big", "qa", 50), task("small", "qa", 3)]
    kept, _, stats = mix(tasks, TEMPLATES, MixOptions(per_task=per_task))
    counts = {name: sum(e.meta["task"] == name for e in kept) for name in sizes}
    assert counts == sizes
    assert stats["tasks"]["big"]["capped"] == 50 - sizes["big"]
    used = {e.meta["template"] for e in kept if e.meta["task"] == "big"}
    assert len(used) == min(per_task, 10)  # templates are cycled, not drawn with repeats


def test_same_seed_same_mix_other_seed_other_mix():
    def run(seed):
        return mix(ALL_TYPES, TEMPLATES, MixOptions(per_task=8, seed=seed))[0]

    assert run(0) == run(0)
    assert run(0) != run(1)
    assert {e.id for e in run(0)} == {e.id for e in run(1)}  # same ids, other choices


@pytest.mark.parametrize(("few_shot", "expected"), [(0.0, {0}), (1.0, {2})])
def test_few_shot_share_and_demonstrations(few_shot, expected):
    kept, _, _ = mix([task("q", "qa", 6)], TEMPLATES, MixOptions(few_shot=few_shot, shots=2))
    assert {e.meta["shots"] for e in kept} == expected
    for e in kept:
        assert e.meta["source_id"] not in e.meta.get("demo_ids", [])


def test_own_positive_examples_are_the_demonstrations():
    tasks = group_tasks(read_examples(DATA / "superni_sentiment.json"))
    kept, _, _ = mix(tasks, TEMPLATES, MixOptions(few_shot=1.0))
    assert len(kept) == 6
    assert all(set(e.meta["demo_ids"]) <= {"superni_sentiment-pos0", "superni_sentiment-pos1"}
               for e in kept)  # fmt: skip
    assert {e.meta["options"] == ["negative", "positive"] for e in kept} == {True}


def test_instances_with_their_own_instructions_get_definition_templates_zero_shot():
    kept, _, _ = mix([task("d", "qa", 10, shared=False)], TEMPLATES, MixOptions(few_shot=1.0))
    by_id = {t.id: t for t in TEMPLATES["qa"]}
    assert all(by_id[e.meta["template"]].needs_definition for e in kept)
    assert {e.meta["shots"] for e in kept} == {0}
    assert all(f"Instruction {e.meta['source_id'].split('-')[1]}." in e.instruction + e.input
               for e in kept)  # fmt: skip


def test_label_set_and_skipped_tasks():
    many = task("many", "classification", 30, labels=[f"l{i}" for i in range(25)])
    given = task("given", "classification", 6, labels=("yes", "no", "maybe"))
    unknown = Task("mystery", None, [Example("i", "x", "y", "m-1")])
    kept, drops, stats = mix([many, given, unknown], TEMPLATES, MixOptions(labels=("yes", "no")))
    assert {e.meta["task"] for e in kept} == {"given"}
    assert sum(d.reason == "not_in_label_set" for d in drops) == 2 + 30  # "maybe", and all l*
    assert stats["tasks"]["many"]["skipped"] == "no_instances"
    assert stats["tasks"]["mystery"]["skipped"] == "no_task_type"
    _, drops, stats = mix([many], TEMPLATES, MixOptions())
    assert stats["tasks"]["many"]["skipped"] == "too_many_labels"
    assert drops[0].detail == "many: 25 distinct outputs; pass --labels"


TYPE_CASES = [
    ({"categories": ["Sentiment Analysis"]}, "t", "classification"),
    ({"categories": ["Answerability Classification"]}, "t", "classification"),
    ({"categories": ["Question Answering"]}, "t", "qa"),
    ({"categories": ["Named Entity Recognition"]}, "t", "extraction"),
    ({"categories": ["Text Simplification"]}, "t", "rewriting"),
    ({"category": "closed_qa"}, "t", "qa"),
    ({"category": "information_extraction"}, "t", "extraction"),
    ({"category": "creative_writing"}, "t", None),
    ({}, "task1290_xsum_summarization", "summarization"),
    ({}, "task_review_polarity_classification", "classification"),
    ({"type": "rewriting"}, "anything", "rewriting"),
]


@pytest.mark.parametrize(("meta", "name", "kind"), TYPE_CASES)
def test_task_type_inference(meta, name, kind):
    assert infer_type(Example("i", meta=meta), name) == kind


BAD_TEMPLATES = [
    ("not json", "{", "not valid JSON"),
    ("unknown type", json.dumps({"type": "poetry", "templates": [{}]}), "'type' is 'poetry'"),
    ("no templates", json.dumps({"type": "qa", "templates": []}), "'templates' is not a non-empty"),
    ("no id", json.dumps({"type": "qa", "templates": [{"input": "$input"}]}), "'templates[0].id'"),
    ("input twice", json.dumps({"type": "qa", "templates": [
        {"id": "a", "instruction": "$input", "input": "$input"}]}), "$input appears 2 times"),
    ("no input", json.dumps({"type": "qa", "templates": [{"id": "a", "instruction": "x"}]}),
     "$input appears 0 times"),
    ("unknown variable", json.dumps({"type": "qa", "templates": [
        {"id": "a", "instruction": "$topic", "input": "$input"}]}), "unknown $topic"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("content", "problem"), [b[1:] for b in BAD_TEMPLATES], ids=[b[0] for b in BAD_TEMPLATES]
)
def test_bad_template_files(tmp_path, content, problem):
    (tmp_path / "mine.json").write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_templates(tmp_path)
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'mine.json'}: ") and message.endswith(f"; {FIX}")
    assert problem in message


def test_template_command_writes_a_run_like_folder(tmp_path, capsys):
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    for name in ("superni_sentiment.json", "niv1_capitals_qa.json"):
        (tasks / name).write_text((DATA / name).read_text(), encoding="utf-8")
    out = tmp_path / "out"
    args = ["template", str(tasks), "--out", str(out), "--per-task", "4", "--export", "sharegpt"]
    assert main(args) == 0
    kept = [json.loads(line) for line in (out / "kept.jsonl").read_text().splitlines()]
    assert {k["meta"]["task"] for k in kept} == {"superni_sentiment", "niv1_capitals_qa"}
    assert len(kept) == 4 + 3 and len(json.loads((out / "alpaca.json").read_text())) == 7
    assert {"task", "template", "shots", "source_id"} <= set(kept[0]["meta"])
    assert json.loads((out / "stats.json").read_text())["tasks"]["niv1_capitals_qa"]["type"] == "qa"
    assert (out / "sharegpt.json").is_file()
    first = (out / "kept.jsonl").read_bytes()
    assert main(args) == 0 and (out / "kept.jsonl").read_bytes() == first
    assert "7 examples from 2 tasks" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--per-task", "0"], "--per-task must be at least 1"),
        (["--few-shot", "2"], "--few-shot must be between 0 and 1"),
        (["--type", "poetry"], "--type must be one of classification"),
        (["--tasks-format", "xml"], "unknown --tasks-format 'xml'"),
    ],
)
def test_template_command_errors(tmp_path, capsys, args, error):
    out = tmp_path / "out"
    assert main(["template", str(DATA / "niv1_capitals_qa.json"), "--out", str(out), *args]) == 2
    assert error in capsys.readouterr().err
    assert not out.exists()


def test_template_refuses_a_generation_run_directory(tmp_path, capsys):
    (tmp_path / "run.json").write_text("{}")
    assert main(["template", str(DATA / "niv1_capitals_qa.json"), "--out", str(tmp_path)]) == 2
    assert "is a generation run's directory" in capsys.readouterr().err
