"""The verb-noun view without a parser: a documented word-list heuristic, labelled as such.

The Self-Instruct paper parsed each instruction (Berkeley Neural Parser) and took the verb
closest to the root and its first direct noun object. No parser model may be downloaded at run
time, so we approximate it for imperative instructions, which most generated tasks are:

1. Split the instruction's first HEAD characters into clauses at sentence ends, newlines and
   the comma after a lead-in ("Given a list of numbers, find ..."), and look at the first three.
2. In a clause, skip fillers ("please", "now", "can you", ...). Its first word is the verb if it
   is in VERBS, or if it is not a known non-verb and the next word is a determiner or an object
   pronoun ("Reverse the string"). A particle after the verb joins it ("come up", "find out").
3. The object is the head of the noun phrase after the verb: skip pronouns, determiners,
   numbers and adverbs in -ly, then take up to three words until a function word or a
   participle ("a Python function that ..." -> "function", "the logical fallacy committed in"
   -> "fallacy"), and keep the last. A function word first ("how", "about") means no noun
   object. A regular plural -s is folded ("ideas" -> "idea").

Instructions with no such clause count as questions (first word a question word or auxiliary)
or as other. Errors are expected (a noun read as a verb, "list" in "list of" as the object);
the view shows the mix of tasks, not a grammatical analysis."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass


def words(text: str) -> frozenset[str]:
    return frozenset(text.split())


VERBS = words(
    """add analyze answer arrange ask assess assign brainstorm build calculate categorize
    change check choose cite clarify classify combine come compare compile complete compose
    compute condense construct continue convert correct count create critique debug decide
    define delete derive describe design detect determine develop devise diagnose discuss
    draft edit elaborate eliminate estimate evaluate explain express extract fill find fix
    format formulate generate give guess highlight identify illustrate imagine implement
    improve infer insert interpret introduce invent judge justify label list locate make
    match measure mention modify name note order organize outline paraphrase pick plan point
    predict prepare present produce proofread propose provide rank rate read recommend
    reformat remove rename reorder rephrase replace report represent respond restate reverse
    revise rewrite say score select share shorten show simplify solve sort specify spell
    split state suggest summarise summarize tell test transform translate turn type use
    verify write"""
)
NOT_VERBS = words(
    """a an the this that these those here there it its i you we they he she my your our their
    his her what which who whom whose when where why how is are was were be been do does did
    can could would should will shall may might must have has had if for in on at to of from
    by with as and or but not no yes given using based below above following according
    suppose assume consider"""
)
QUESTION = words(
    """what which who whom whose when where why how is are was were do does did can could would
    should will shall may might must have has"""
)
FILLERS = words("please now then also and so kindly just first next finally")
DETERMINERS = words(
    """a an the this that these those some any each every all your my our their its his her
    one two three four five six seven ten few several many more most following given same
    other another next"""
)
PRONOUNS = words("me us him them someone somebody")
STOPS = words(
    """of in on at to for from by with about into as like than between over under without within
    through during after before per and or but nor that which who whom whose where when why how
    whether if so then while because using based written given taken made shown known found said
    explaining describing"""
)
PARTICLES = words("up out down")
LEAD_INS = words(
    """given using based for in with from after if when according considering imagine suppose
    assume as"""
)
_QUOTED = re.compile(r'"[^"\n]*"')  # quoted text is data, not the phrase: read it as a stop
_CLAUSES = re.compile(r"(?<=[.!?:;])\s+|\n+")
_WORD = re.compile(r"[a-z]+(?:[-'][a-z]+)*")
HEAD = 400
QUESTION_LABEL, OTHER_LABEL, NO_OBJECT = "(question)", "(other)", "(no noun object)"


@dataclass(frozen=True)
class VerbNoun:
    verb: str  # the verb, or QUESTION_LABEL / OTHER_LABEL
    noun: str  # the object, or NO_OBJECT


def _clauses(text: str) -> list[list[str]]:
    out: list[list[str]] = []
    head = text.strip()[:HEAD].lower()  # long inputs (code, tables) hold no leading verb
    for sentence in _CLAUSES.split(_QUOTED.sub(" that ", head)):
        head, comma, rest = sentence.partition(",")
        words = _WORD.findall(head)
        if comma and words and words[0] in LEAD_INS:
            out.append(_WORD.findall(rest))  # "Given X, find Y": the clause after the comma
        else:
            out.append(_WORD.findall(sentence))
        if len(out) == 3:
            break
    return out


def _verb_at(words: list[str]) -> int | None:
    """Index of the clause's verb, or None."""
    i = 0
    while i < len(words) and (words[i] in FILLERS or words[i] in {"can", "could", "you"}):
        i += 1  # "please", "can you", "could you": polite requests are imperatives too
    if i >= len(words):
        return None
    word, after = words[i], words[i + 1] if i + 1 < len(words) else ""
    if word in VERBS:
        return i
    if after in PARTICLES and i + 2 < len(words):
        after = words[i + 2]  # "work out the answer"
    if word not in NOT_VERBS and (after in DETERMINERS or after in PRONOUNS or after == "it"):
        return i
    return None


def _object(words: list[str]) -> str:
    i = 0
    while i < len(words) and (
        words[i] in PRONOUNS or words[i] in DETERMINERS or words[i] in {"it", "with"}
    ):
        i += 1
    phrase: list[str] = []
    for word in words[i : i + 3]:
        if word.isdigit() or (word.endswith("ly") and not phrase):
            continue
        stop = word in STOPS or word in NOT_VERBS or len(word) < 2
        if stop or (phrase and word.endswith(("ed", "ing"))):
            break
        phrase.append(word)
    return singular(phrase[-1]) if phrase else NO_OBJECT


def singular(word: str) -> str:
    keep = ("ss", "us", "is", "ics", "news")
    if len(word) > 3 and word.endswith("s") and not word.endswith(keep):
        return word[:-3] + "y" if word.endswith("ies") else word[:-1]
    return word


def verb_noun(instruction: str) -> VerbNoun:
    """The instruction's leading verb and its object noun, by the heuristic above."""
    clauses = _clauses(instruction)
    for words in clauses:
        i = _verb_at(words)
        if i is None:
            continue
        verb, rest = words[i], words[i + 1 :]
        if rest and rest[0] in PARTICLES:
            verb, rest = f"{verb} {rest[0]}", rest[1:]
        return VerbNoun(verb, _object(rest))
    first = clauses[0][0] if clauses and clauses[0] else ""
    return VerbNoun(QUESTION_LABEL if first in QUESTION else OTHER_LABEL, NO_OBJECT)


def verb_noun_counts(instructions: list[str]) -> tuple[Counter, dict[str, Counter]]:
    """How often each verb leads, and each verb's objects."""
    verbs: Counter = Counter()
    nouns: dict[str, Counter] = {}
    for text in instructions:
        vn = verb_noun(text)
        verbs[vn.verb] += 1
        nouns.setdefault(vn.verb, Counter())[vn.noun] += 1
    return verbs, nouns
