"""The stub model's answers to the three prompts of Unnatural Instructions.

Core generation continues `Example 4` with Instruction/Input/Constraints lines, output generation
answers one instruction within its constraints, template expansion rewords an instruction around
one `{INPUT}` placeholder. Each kind is a matcher and an answer (RESPONDERS, at the end). Each
matcher wants its own last line of the prompt, so none can claim another's prompts or
Self-Instruct's (`<n>. Instruction:`).
"""

from __future__ import annotations

import random
import re

from pipeline.stub.ask import Ask, Responder
from pipeline.stub.families import vocab as V
from pipeline.stub.families.helpers import cap
from pipeline.stub.text import make_task

Core = tuple[str, str, str]  # instruction, input, constraints

MISSING_RATE = 0.02  # a real model now and then leaves out a field
NO_PLACEHOLDER_RATE = 0.05
TWO_PLACEHOLDERS_RATE = 0.02
PLACEHOLDER = "{INPUT}"


def _last_line(prompt: str) -> str:
    return prompt.rstrip().rpartition("\n")[2].strip()


# --- 1. Core generation: a fourth example after three demonstrations ---------------------------

_HEADER = re.compile(r"Example (\d+)")
_DEMO = re.compile(r"Example \d+\nInstruction: ([^\n]*)\nInput: (.*?)\nConstraints: ([^\n]*)", re.S)
_LABEL_SETS: tuple[tuple[str, ...], ...] = (
    tuple(V.REVIEW_CODAS),
    tuple(V.HEADLINES),
    ("Spam", "Not spam"),
    ("Fact", "Opinion"),
    ("Declarative", "Interrogative", "Imperative", "Exclamatory"),
    ("True", "False"),
    ("Yes", "No"),
)
_NUMBER = re.compile(r"-?\$?\d+(?:[.,]\d+)?")
# A few instructions a model keeps coming back to, so duplicates across answers occur.
POPULAR: tuple[Core, ...] = (
    (
        "Given a sentence, decide whether it is grammatically correct.",
        "Her and me goes to the market every Sunday.",
        'Answer with "Yes" or "No".',
    ),
    ("Translate the given sentence into French.", "The library opens at nine.", "None."),
    (
        "Classify the sentiment of the given review.",
        "The room was clean, but the staff ignored us all week.",
        "Answer with one of: Positive, Negative, Neutral.",
    ),
    (
        "Count the words in the given sentence.",
        "Rain is expected later today.",
        "The output must be a number.",
    ),
)
# No-input tasks become a request passed as input, as in many Unnatural Instructions tasks.
_REQUEST_LEADS = (
    "You will be given a request from a user. Write a helpful response to it.",
    "Respond to the request given as input.",
    "In this task, you are given a question or a request. Answer it as a helpful assistant would.",
    "Read the user's message and reply to it.",
)


def is_core(prompt: str) -> bool:
    """A prompt ending with a bare `Example <n>` header after labelled demonstrations."""
    return (
        _HEADER.fullmatch(_last_line(prompt)) is not None
        and "Instruction:" in prompt
        and "\nConstraints:" in prompt
    )


def core(ask: Ask) -> str:
    """One new example in the demonstrations' format, sometimes followed by the next header."""
    r = ask.rng
    number = int(_HEADER.fullmatch(_last_line(ask.prompt))[1])  # type: ignore[index]
    if ask.fault == "malformed" and r.random() < 0.5:
        instruction, given, _ = _new_core(r)
        return f"Sure! Here is another task you could try. {instruction} For example: {given}"
    example = _new_core(r)
    if ask.fault == "duplicate":
        demos = _DEMO.findall(ask.prompt)
        example = r.choice(demos) if demos and r.random() < 0.5 else r.choice(POPULAR)
    missing = None
    if ask.fault == "malformed" or (ask.fault is None and r.random() < MISSING_RATE):
        missing = r.choice(("Input", "Constraints"))
    text = _render(example, missing)
    if ask.request.api == "chat" and r.random() < 1 / 3:
        text = f"Example {number}\n{text}"  # chat models often repeat the header they continue
    if r.random() < 0.6:
        text += f"\n\nExample {number + 1}\n{_render(_new_core(r))}"
    return text


def _render(example: Core, missing: str | None = None) -> str:
    fields = zip(("Instruction", "Input", "Constraints"), example, strict=True)
    return "\n".join(f"{label}: {value}" for label, value in fields if label != missing)


def _new_core(r: random.Random) -> Core:
    """A task with an input (redrawn, or a no-input task turned into the input) and constraints."""
    for attempt in range(10):  # about 1 in 3 tasks has an input; about 1 in 10 becomes one
        instruction, given, output = make_task(r)
        if given:
            return instruction, given, constraints_for(r, output)
        if attempt == 9 or r.random() < 0.05:
            break
    limit = r.choice(("None.", "None.", "At most 100 words.", "At most 60 words."))
    return r.choice(_REQUEST_LEADS), instruction, limit


def constraints_for(r: random.Random, output: str) -> str:
    """Constraints a model would write for a task with this output."""
    label = output.strip().rstrip(".")
    options = next((s for s in _LABEL_SETS if label in s), ())
    if options:
        return _options_phrase(r, options, label)
    if _NUMBER.fullmatch(label):
        return r.choice(("The output must be a number.", "Answer with a number only."))
    words = output.split()
    if len(words) == 1:
        return "The output must be a single word."
    u = r.random()
    if u < 0.55:
        return "None."
    if u < 0.85:
        return f"At most {(len(words) // 10 + 2) * 10} words."
    return "Answer in one sentence." if output.count(". ") == 0 else "None."


def _options_phrase(r: random.Random, options: tuple[str, ...], label: str) -> str:
    if len(options) > 5:  # many categories: name a few, the right one among them
        others = [o for o in options if o != label]
        options = (*r.sample(others, r.randint(2, 4)), label)
        options = tuple(r.sample(options, len(options)))
    if len(options) == 2 and r.random() < 0.7:
        return f'Answer with "{options[0]}" or "{options[1]}".'
    lead = r.choice(("Answer with one of:", "The answer must be one of:"))
    return f"{lead} {', '.join(options)}."


# --- 2. Output generation: answer one instruction within its constraints -----------------------

_OUTPUT_PROMPT = re.compile(
    r"Instruction:[ \t]*(.*?)\nInput:[ \t]*(.*)\nConstraints:[ \t]*([^\n]*)\s*\nOutput:\s*\Z", re.S
)
_ONE_OF = re.compile(r"one of:\s*(.+)", re.I)
_WORD_LIMIT = re.compile(r"at most (\d+) words", re.I)
_REWRITE = re.compile(
    r"\b(rewrite|rephrase|correct|fix|translate|express|say it|change|tense)\b", re.I
)
_SPAN = re.compile(r"\b(extract|summari[sz]e|title|main idea|passage|question|headline)\b", re.I)
_CUE = re.compile(r"\b(?:about|of|on|for|to)\s+(.+)", re.I)
_SENTENCES = (
    "the main point is clear once the details are laid out.",
    "a short, direct answer covers it best.",
    "it depends a little on the context, but the core idea stays the same.",
    "the basics matter more than the details.",
)


def is_output(prompt: str) -> bool:
    """A prompt ending with `Output:` after Instruction, Input and Constraints lines."""
    return _last_line(prompt) == "Output:" and _OUTPUT_PROMPT.search(prompt) is not None


def output(ask: Ask) -> str:
    """The output for the instruction, honouring named options, numbers and length limits."""
    r = ask.rng
    m = _OUTPUT_PROMPT.search(ask.prompt)
    instruction, given, constraints = (g.strip() for g in m.groups())  # type: ignore[union-attr]
    if ask.fault == "malformed":
        return r.choice(("", " ", "\n", "\n\n"))
    text = given if ask.fault == "duplicate" else answer_for(r, instruction, given, constraints)
    return f" {text}" if ask.request.api == "completions" else text


def answer_for(r: random.Random, instruction: str, given: str, constraints: str) -> str:
    """A plausible answer: one of the named options, a number, a word, or a short text."""
    options = options_in(constraints)
    if options:
        return r.choice(options)
    low = constraints.lower()
    if "number" in low or "integer" in low:
        numbers = _NUMBER.findall(given)
        return r.choice(numbers) if numbers and r.random() < 0.5 else str(len(given.split()))
    if "single word" in low or "one word" in low:
        return max(re.findall(r"[A-Za-z']+", given) or ["Yes"], key=len)
    text = _free_text(r, instruction, given)
    if "one sentence" in low:
        text = _first_sentence(text)
    limit = _WORD_LIMIT.search(constraints)
    if limit:
        text = " ".join(text.split()[: int(limit[1])])
    return text


def options_in(constraints: str) -> tuple[str, ...]:
    """The answers a constraint allows: `one of: A, B, C` or two or more quoted words."""
    quoted = re.findall(r'"([^"]+)"', constraints)
    if len(quoted) >= 2:
        return tuple(quoted)
    m = _ONE_OF.search(constraints)
    return tuple(o for o in re.split(r",\s*|\s+or\s+", m[1].rstrip(". ")) if o) if m else ()


def _first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?])\s+", text.strip(), maxsplit=1)[0]


def _free_text(r: random.Random, instruction: str, given: str) -> str:
    first = " ".join(_first_sentence(given).split()[:25])
    if _REWRITE.search(instruction) and first:
        return reword(r, first, lead=0.0)
    if _SPAN.search(instruction) and first:
        return " ".join(first.split()[:12]).rstrip(".,;") + "."
    # a request passed as the input names the topic; otherwise the instruction does
    subject = given if len(given.split()) <= 20 else instruction
    cue = _CUE.search(subject)
    topic = " ".join(cue[1].split()[:6]).strip(" ?.!:;,\"'") if cue else ""
    a, b = r.sample(_SENTENCES, 2)
    return f"When it comes to {topic if ' ' in topic else 'this'}, {a} {cap(b)}"


# --- 3. Template expansion: the instruction reworded around {INPUT} -----------------------------

_SUFFIX = "Alternative formulation:"
_SYNONYMS = {
    "the given": "the provided",
    "Given": "For",
    "below": "that follows",
    "following": "next",
    "decide": "determine",
    "identify": "find",
    "classify": "categorize",
    "rewrite": "rephrase",
    "choose": "pick",
    "tell me": "say",
    "write": "produce",
    "explain": "describe",
    "label": "tag",
    "sentence": "statement",
    "Answer": "Respond to",
    "evaluate": "work out",
    "calculate": "compute",
    "count": "tally",
    "summarize": "sum up",
    "translate": "render",
}
# "Below is a list" must not become "That follows is a list": those two stay lower case only
_SYNONYMS |= {cap(k): cap(v) for k, v in _SYNONYMS.items() if k not in ("below", "following")}
_SYNONYM = re.compile(r"\b(" + "|".join(map(re.escape, _SYNONYMS)) + r")\b")
_LEADS = ("Task: ", "Here is what to do: ", "Your job: ", "Instructions: ", "In this task: ")
_SHAPES = (
    "{{INPUT}}\n\n{q}",
    "{q}\n\nInput: {{INPUT}}",
    "{q} Input: {{INPUT}}",
    '{q} "{{INPUT}}"',
    "Here is the input: {{INPUT}}\n{q}",
    "{q}\n{{INPUT}}",
    "Consider the following: {{INPUT}} {q}",
    'Look at this: "{{INPUT}}". {q}',
)


def is_paraphrase(prompt: str) -> bool:
    """A prompt ending with `Alternative formulation:` after an instruction."""
    return _last_line(prompt).endswith(_SUFFIX) and "Instruction:" in prompt


def paraphrase(ask: Ask) -> str:
    """One alternative formulation of the prompt's last instruction, with `{INPUT}` (usually)."""
    r = ask.rng
    body = ask.prompt.rstrip()[: -len(_SUFFIX)]
    instruction = body.rpartition("Instruction:")[2].strip()
    u = r.random()
    if ask.fault == "duplicate":
        text = f"{instruction} {PLACEHOLDER}"
    elif ask.fault == "malformed" or u < NO_PLACEHOLDER_RATE:
        text = reword(r, instruction, different=True)
    elif u < NO_PLACEHOLDER_RATE + TWO_PLACEHOLDERS_RATE:
        text = f"{PLACEHOLDER}\n\n{reword(r, instruction)}\nInput: {PLACEHOLDER}"
    else:
        text = r.choice(_SHAPES).format(q=reword(r, instruction, different=True))
    return f" {text}" if ask.request.api == "completions" else text


def reword(r: random.Random, text: str, lead: float = 0.3, different: bool = False) -> str:
    """Swap some words for synonyms, sometimes add a lead (always, if `different` and unchanged)."""
    out = _SYNONYM.sub(lambda m: _SYNONYMS[m[1]] if r.random() < 0.6 else m[1], text)
    if r.random() < lead or (different and out == text):
        keep = out[1:2].isupper() or re.match(r"I\b", out)  # "SQL", "I have": no lower case
        out = r.choice(_LEADS) + (out if keep else out[:1].lower() + out[1:])
    return out


RESPONDERS = (
    Responder("unnatural-core", is_core, core),
    Responder("unnatural-output", is_output, output),
    Responder("unnatural-paraphrase", is_paraphrase, paraphrase),
)
