"""Editing tasks on a sentence: grammar, voice, tense, register, translation, counting."""

from __future__ import annotations

import random

from pipeline.stub.families import facts as F
from pipeline.stub.families import vocab as V
from pipeline.stub.families.helpers import ONE_WORD, Task, cap, compose
from pipeline.stub.families.helpers import split_items as _s


def _clause(r: random.Random) -> tuple[str, bool, tuple[str, ...], str]:
    verb = r.choice(F.VERBS)
    plural = r.random() < 0.35
    subject = r.choice(F.PLURAL if plural else F.SINGULAR)
    return subject, plural, verb, r.choice(verb[4])


def _sentence_obj(r: random.Random, kind: str = "sentence") -> str:
    """'sentence', maybe with where it comes from and who wrote it."""
    if r.random() < 0.7:
        kind += f" from {r.choice(V.SOURCES)}"
    if r.random() < 0.4:
        kind += f" written by {r.choice(_WRITERS)}"
    return kind


_WRITERS = _s("""a student|a new employee|a non-native speaker|a journalist|a busy
manager|a ten-year-old|a tourist|a customer|my neighbor|an intern""")


def _grammar(r: random.Random) -> Task:
    subj, plural, (base, third, past, _, _), obj = _clause(r)
    kind = r.randrange(3)
    if kind == 2:
        template, wrong, right = r.choice(F.CONFUSIONS)
        a, b = r.sample(V.NAMES, 2)
        bad, good = (
            cap(template.format(a=a, b=b, city=r.choice(V.CITIES), x=x)) for x in (wrong, right)
        )
    else:
        if kind == 0:
            right, wrong = (base, third) if plural else (third, base)
            when = r.choice(F.WHEN_NOW)
        else:
            regular = past in (base + "ed", base + "d", base[:-1] + "ied")
            right, when = past, r.choice(F.WHEN_PAST)
            wrong = (
                (base if plural else third)
                if regular
                else base + ("d" if base[-1] == "e" else "ed")
            )
        bad, good = (f"{cap(subj)} {v} {obj} {when}." for v in (wrong, right))
    core = r.choice(_GRAMMAR_CORES)
    return compose(r, _sentence_obj(r), core), bad, good


_GRAMMAR_CORES = _s("""correct its grammar|fix the grammatical mistake|rewrite it without the
error|edit it so that it is grammatically correct|find and fix the error|proofread it and correct
the mistake|repair the verb or word that is wrong""")


def _voice(r: random.Random) -> Task:
    subj, _, (_, _, past, part, _), obj = _clause(r)
    when = r.choice(F.WHEN_PAST)
    was = "were" if obj.endswith("s") and not obj.endswith("ss") else "was"
    active = f"{cap(subj)} {past} {obj} {when}."
    passive = f"{cap(obj)} {was} {part} by {subj} {when}."
    if r.random() < 0.6:
        core = r.choice(_TO_PASSIVE)
        return compose(r, _sentence_obj(r), core), active, passive
    core = r.choice(_TO_ACTIVE)
    return compose(r, _sentence_obj(r), core), passive, active


_TO_ACTIVE = _s("""rewrite it in the active voice|make it active so the doer comes first|turn it
into an active sentence|change it from passive to active voice""")


_TO_PASSIVE = _s("""rewrite it in the passive voice|change it to the passive voice|turn it into a
passive sentence|convert it to the passive|express the same idea in the passive voice""")


def _tense(r: random.Random) -> Task:
    subj, plural, (base, third, past, _, _), obj = _clause(r)
    when = r.choice(F.WHEN_NOW)
    now = f"{cap(subj)} {base if plural else third} {obj} {when}."
    if r.random() < 0.5:
        core = r.choice(_TO_PAST)
        return compose(r, _sentence_obj(r), core), now, f"{cap(subj)} {past} {obj} {when}."
    core = r.choice(_TO_FUTURE)
    return compose(r, _sentence_obj(r), core), now, f"{cap(subj)} will {base} {obj} {when}."


_TO_FUTURE = _s("""rewrite it in the future tense|change its verb to the future|make it talk about
the future""")


_TO_PAST = _s("""change it to the past tense|rewrite it in the simple past|put its verb in the
past tense|make it describe the past""")


def _blank(r: random.Random) -> Task:
    subj, _, (base, _, past, _, _), obj = _clause(r)
    text = f"{cap(subj)} ___ ({base}) {obj} {r.choice(F.WHEN_PAST)}."
    core = r.choice(_BLANK_CORES)
    return compose(r, _sentence_obj(r, "sentence with a blank"), core), text, past


_BLANK_CORES = _s("""fill in the blank with the correct form of the verb in brackets|complete it
with the past tense of the given verb|supply the missing verb form|tell me which word belongs in
the blank""")


def _register(r: random.Random) -> Task:
    casual, formal = r.choice(F.REGISTER)
    slots = {"name": r.choice(V.NAMES), "product": r.choice(V.PRODUCTS)}
    casual, formal = casual.format(**slots), formal.format(**slots)
    obj = r.choice(("message", "note", "chat message", "reply")) + f" to {r.choice(V.RECIPIENTS)}"
    if r.random() < 0.75:
        core = r.choice(_TO_FORMAL)
        return compose(r, obj, core), casual, formal
    core = r.choice(_TO_CASUAL)
    return compose(r, obj, core), formal, cap(casual)


_TO_CASUAL = _s("""rewrite it so it sounds casual and friendly|make it less formal|say it the
way you would to a close friend""")


_TO_FORMAL = _s("""rewrite it in a more formal tone|make it sound more professional|turn it
into polite, formal English|edit it so it suits a business email|make it more respectful without
changing its meaning""")


def _translate(r: random.Random) -> Task:
    row, i = r.choice(F.PHRASES), r.randrange(3)
    obj = r.choice(_TRANSLATE_OBJECTS)
    core = r.choice(_TRANSLATE_CORES).format(l=F.LANGUAGES[i])
    return compose(r, obj, core), row[0], row[i + 1]


_TRANSLATE_OBJECTS = _s("""phrase a traveler might need|sentence from a phrasebook|line from a
tourist guide|short English sentence|phrase from a language lesson""")


_TRANSLATE_CORES = _s("""translate it into {l}|give its {l} translation|say it in {l}|render it in
{l}|tell me how a native speaker would say it in {l}""")


def _count(r: random.Random) -> Task:
    subj, plural, (base, third, _, _, _), obj = _clause(r)
    text = f"{cap(subj)} {base if plural else third} {obj} {r.choice(F.WHEN_NOW)}."
    kind, ch = r.randrange(3), r.choice("aeinorst")
    core = (
        r.choice(("count its words", "tell me how many words it has")),
        r.choice(("count its vowels", "tell me how many vowels it contains")),
        f"count how many times the letter '{ch}' appears in it",
    )[kind]
    n = (len(text.split()), sum(c in "aeiouAEIOU" for c in text), text.lower().count(ch))[kind]
    return compose(r, _sentence_obj(r), core), text, str(n)


def _sentence_type(r: random.Random) -> Task:
    subj, plural, (base, third, past, _, _), obj = _clause(r)
    when, kind = r.choice(F.WHEN_NOW), r.randrange(4)
    text = (
        f"{cap(subj)} {base if plural else third} {obj} {when}.",
        f"{'Do' if plural else 'Does'} {subj} {base} {obj} {when}?",
        f"Please {base} {obj} {when}.",
        f"How quickly {subj} {past} {obj}!",
    )[kind]
    core = r.choice(_SENTENCE_TYPE_CORES)
    out = ("Declarative", "Interrogative", "Imperative", "Exclamatory")[kind]
    return compose(r, _sentence_obj(r), core, ONE_WORD), text, out


_SENTENCE_TYPE_CORES = _s("""classify it as declarative, interrogative, imperative or
exclamatory|identify what type of sentence it is|name its sentence type|decide which of the four
sentence types it is""")


FAMILIES = (
    (_grammar, 3),
    (_voice, 1.5),
    (_tense, 1.5),
    (_blank, 1),
    (_register, 2),
    (_translate, 1.5),
    (_count, 1),
    (_sentence_type, 1),
)
