"""Tasks that need knowledge: concepts, comparisons, capitals and elements, words, analogies."""

from __future__ import annotations

import random

from pipeline.stub.families import facts as F
from pipeline.stub.families import vocab as V
from pipeline.stub.families.helpers import Task, cap, join, tail
from pipeline.stub.families.helpers import split_items as _s

_BY_DOMAIN = {
    d: tuple(c for c in F.CONCEPTS if c[1] == d) for d in _s("science|economics|technology|society")
}


def _explain(r: random.Random) -> Task:
    concept, domain, what = r.choice(F.CONCEPTS)
    ask = r.choice(_EXPLAIN_ASKS)
    notes = r.sample(F.DOMAIN_NOTES[domain], 2)
    out = f"{cap(concept)} is {what}. {notes[0]} {notes[1]}"
    return ask.format(c=concept, a=r.choice(V.AUDIENCES)) + tail(r), "", out


_EXPLAIN_ASKS = _s("""Explain {c} to {a}.|What is {c}?|Describe {c} in simple terms.|Can you give a
short explanation of {c} for {a}?|Help me understand {c}.|Why does {c} matter?|Write a brief
paragraph explaining {c}.|How would you describe {c} to {a}?|In two or three sentences, explain
what {c} means.|What should {a} know about {c}?|Give {a} a quick introduction to {c}.""")


def _compare(r: random.Random) -> Task:
    (c1, domain, w1), (c2, _, w2) = r.sample(_BY_DOMAIN[r.choice(tuple(_BY_DOMAIN))], 2)
    ask = r.choice(_COMPARE_ASKS)
    out = (
        f"{cap(c1)} is {w1}, while {c2} is {w2}. Both belong to {domain}, but they answer "
        f"different questions. {r.choice(F.DOMAIN_NOTES[domain])}"
    )
    return ask.format(x=c1, y=c2, a=r.choice(V.AUDIENCES)) + tail(r), "", out


_COMPARE_ASKS = _s("""Compare {x} and {y}.|What is the difference between {x} and {y}?|How are {x}
and {y} different?|Explain how {x} differs from {y}.|Contrast {x} with {y} for {a}.|Are {x} and {y}
the same thing? Explain.|Describe one way {x} and {y} are alike and one way they differ.""")


_GEO = tuple(
    tuple(p.split(" => "))
    for p in _s("""What is the capital of {c}? => The capital of {c} is {k}.|Name the capital city
of {c} and the continent it is on. => {k}, the capital of {c}, is in {n}.|On which continent is {c}
located? => {c} is in {n}.|Which city is the seat of government of {c}? => {k} is the capital of
{c}.|What is the chemical symbol for {e}? => The chemical symbol for {e} is {s}.|Which element has
the chemical symbol {s}? => The element with the symbol {s} is {e}.|Tell me the capital of {c}. =>
{k}.""")
)


def _geo(r: random.Random) -> Task:
    country, capital, continent = r.choice(F.COUNTRIES)
    element, symbol = r.choice(F.ELEMENTS)
    slots = {"c": country, "k": capital, "n": continent, "e": element, "s": symbol}
    ask, out = r.choice(_GEO)
    return ask.format(**slots), "", cap(out.format(**slots))


def _true_false(r: random.Random) -> Task:
    country, capital, _ = r.choice(F.COUNTRIES)
    true = r.random() < 0.5
    claimed = capital if true else r.choice([c for _, c, _ in F.COUNTRIES if c != capital])
    claim = f"{claimed} is the capital of {country}."
    out = "True." if true else f"False. The capital of {country} is {capital}."
    if r.random() < 0.5:
        return f"True or false: {claim}", "", out
    ask = r.choice(_TRUE_FALSE_ASKS)
    return ask, claim, out


_TRUE_FALSE_ASKS = _s("""Is the following statement true or false?|Check this claim and correct it
if it is wrong.|Decide whether the sentence below is accurate.""")


def _words(r: random.Random) -> Task:
    word, syn, ant, meaning = r.choice(F.WORDS)
    ask, out = r.choice(_WORD_ASKS)
    slots = {"w": word, "W": cap(word), "s": syn, "a": ant, "m": meaning}
    return ask.format(**slots), "", out.format(**slots)


_WORD_ASKS = tuple(
    tuple(p.split(" => "))
    for p in _s("""Give a synonym for '{w}'. => {s}|What is the opposite of '{w}'? => The opposite
of '{w}' is '{a}'.|Find an antonym for the word {w}. => {a}|Define the word '{w}' and give a
synonym. => {W} means {m}. A synonym is '{s}'.|What does the word '{w}' mean? => {W} means {m}.|Is
'{s}' a synonym or an antonym of '{w}'? => A synonym: both mean {m}.|Give one word that means the
same as '{w}' and one that means the opposite. => Same: {s}. Opposite: {a}.""")
)


def _analogy(r: random.Random) -> Task:
    rel = r.randrange(3)
    if rel == 0:
        (a, b), (c, d) = r.sample(F.YOUNG, 2)
        why = "each pair is an animal and its young"
    elif rel == 1:
        (a, b, _), (c, d, _) = r.sample(F.COUNTRIES, 2)
        why = "each pair is a country and its capital"
    else:
        (a, _, b, _), (c, _, d, _) = r.sample(F.WORDS, 2)
        why = "each pair is a word and its opposite"
    out = f"{d}. {cap(why)}."
    if r.random() < 0.4:
        return "Complete the following analogy.", f"{a} : {b} :: {c} : ?", out
    ask = r.choice(_ANALOGY_ASKS)
    return ask.format(a=a, b=b, c=c), "", out


_ANALOGY_ASKS = _s("""Complete the analogy: {a} is to {b} as {c} is to what?|Fill in the missing
word: {a} : {b} :: {c} : ?|What word completes this analogy: {a} is to {b} as {c} is to ___?""")


def _short(r: random.Random) -> Task:
    """Under four words: Alpaca's length filter drops these, as it did the real model's."""
    cat = r.choice(("fruits", "vegetables", "mammals", "birds", "planets", "insects"))
    kind = r.randrange(4)
    if kind == 0:
        return f"Name three {cat}.", "", join(r.sample(F.CATEGORIES[cat], 3)) + "."
    if kind == 1:
        word, _, _, meaning = r.choice(F.WORDS)
        return f"Define {word}.", "", f"{cap(word)} means {meaning}."
    if kind == 2:
        concept, _, what = r.choice(_SINGLE_WORD)
        return f"Explain {concept}.", "", f"{cap(concept)} is {what}."
    return f"List some {cat}.", "", join(r.sample(F.CATEGORIES[cat], 4)) + "."


_SINGLE_WORD = tuple(c for c in F.CONCEPTS if " " not in c[0])


def _media(r: random.Random) -> Task:
    """Visual or audio asks that Alpaca's word filter drops (a text model cannot do them)."""
    topic, concept = r.choice(V.TOPICS), r.choice(F.CONCEPTS)[0]
    ask = r.choice(_MEDIA_ASKS)
    ask = ask.format(
        c=concept,
        t=topic,
        y=r.choice(V.CITIES),
        e=r.choice(V.EVENTS),
        h=r.choice(F.HOWTO)[0],
        n=r.choice(V.NATURE),
    )
    out = (
        "I can only work with text, so here is a written version instead: a short title, "
        "three key points in plain words, and a closing line that sums them up."
    )
    return ask, "", out


_MEDIA_ASKS = _s("""Draw a simple diagram that shows {c}.|Describe an image that could illustrate
{t}.|Create a map of the main sights in {y} for a first-time visitor.|Suggest background music for
{e}.|Write the script for a short video about {t}.|Design a flowchart for how to {h}.|Write a
caption for a picture of {n}.|Plot a graph that shows how {t} has grown.""")


FAMILIES = (
    (_explain, 4),
    (_compare, 2),
    (_geo, 2),
    (_true_false, 1.5),
    (_words, 2),
    (_analogy, 1.5),
    (_short, 2),
    (_media, 2),
)
