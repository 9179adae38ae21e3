"""Classification tasks on an input: sentiment, news topic, spam, fact or opinion, groups."""

from __future__ import annotations

import random

from pipeline.stub.families import facts as F
from pipeline.stub.families import vocab as V
from pipeline.stub.families.helpers import ONE_WORD, Task, a_, cap, compose, join
from pipeline.stub.families.helpers import split_items as _s
from pipeline.stub.families.passages import org_name


def _sentiment(r: random.Random) -> Task:
    label = r.choice(_LABELS)
    thing = r.choice(V.PRODUCTS if r.random() < 0.5 else V.SERVICES)
    said = r.choice(V.REVIEW_PREDICATES[label])
    text = f"{r.choice(V.REVIEW_OPENERS).format(x=thing)} {said}. {r.choice(V.REVIEW_CODAS[label])}"
    obj = f"{r.choice(V.REVIEW_KINDS)} about {a_(thing)} {thing}"
    if r.random() < 0.5:
        obj += f" from {r.choice(V.SITES)}"
    core = r.choice(_SENTIMENT_CORES)
    return compose(r, obj, core, ONE_WORD), text, label


_SENTIMENT_CORES = _s("""classify its sentiment as positive, negative or neutral|label its overall
tone|decide whether it is positive, negative or neutral|identify the feeling it expresses|tell me
if its tone is positive, negative or neutral|determine the writer's attitude|rate its sentiment|say
how the customer felt""")


_LABELS = tuple(V.REVIEW_CODAS)


_HEAD_CATS = tuple(V.HEADLINES)


def _headline(r: random.Random) -> Task:
    cat = r.choice(_HEAD_CATS)
    text = r.choice(V.HEADLINES[cat]).format(
        city=r.choice(V.CITIES), name=r.choice(V.NAMES), org=org_name(r)
    )
    options = [*r.sample([c for c in _HEAD_CATS if c != cat], r.randint(2, 4)), cat]
    r.shuffle(options)
    core = r.choice(_HEADLINE_CORES).format(o=join([c.lower() for c in options], "or"))
    obj = r.choice(("headline", "news headline", "title")) + f" from {r.choice(V.NEWS_SOURCES)}"
    return compose(r, obj, core, ONE_WORD), text, cat


_HEADLINE_CORES = _s("""assign it to one of these categories: {o}|decide which section it belongs in
({o})|label its topic|tell me whether it is about {o}|name the news category it fits|choose the
best label for it from {o}""")


def _spam(r: random.Random) -> Task:
    spam = r.random() < 0.5
    text = r.choice(V.SPAM if spam else V.HAM).format(
        product=r.choice(V.PRODUCTS), name=r.choice(V.NAMES), day=r.choice(V.WEEKDAYS)
    )
    obj = (
        r.choice(("text message", "email", "SMS", "chat message", "message"))
        + " "
        + r.choice(_SPAM_OBJECTS)
    )
    core = r.choice(_SPAM_CORES)
    return compose(r, obj, core, ONE_WORD), text, "Spam" if spam else "Not spam"


_SPAM_CORES = _s("""decide whether it is spam|classify it as spam or not spam|tell me if it looks
like spam|flag it as spam or not spam|judge whether it is spam or a real message""")


_SPAM_OBJECTS = _s("""from an unknown number|sent to a work inbox|that arrived this morning|received
by a student|forwarded by a colleague|from a delivery company|sent late at night""")


def _fact_opinion(r: random.Random) -> Task:
    fact = r.random() < 0.5
    if fact:
        text = r.choice(F.FACTS) if r.random() < 0.6 else _capital_fact(r)
    else:
        text = r.choice(F.OPINIONS).format(product=r.choice(V.PRODUCTS), city=r.choice(V.CITIES))
    obj = "statement from " + r.choice(_FACT_OPINION_OBJECTS)
    core = r.choice(_FACT_OPINION_CORES)
    return compose(r, obj, core, ONE_WORD), text, "Fact" if fact else "Opinion"


_FACT_OPINION_CORES = _s("""decide whether it is a fact or an opinion|classify it as fact or
opinion|label it as fact or opinion|tell me if it states a fact or an opinion|say whether it can be
checked (a fact) or is a matter of taste (an opinion)""")


_FACT_OPINION_OBJECTS = _s("""a debate|a school textbook|a travel blog|an online forum|a radio
show|a history lesson|a restaurant review|a science quiz|a dinner conversation""")


def _capital_fact(r: random.Random) -> str:
    country, capital, _ = r.choice(F.COUNTRIES)
    return f"{capital} is the capital of {country}."


_KINDWORD = {
    "fruits": "foods",
    "mammals": "animals",
    "fish": "animals",
    "renewable energy sources": "energy sources",
    "electrical conductors": "materials",
    "nouns": "words",
}


def _sort_items(r: random.Random) -> Task:
    cats = r.choice(F.CATEGORY_PAIRS)
    picked = {c: r.sample(F.CATEGORIES[c], r.randint(1, 3)) for c in cats}
    items = [i for c in cats for i in picked[c]]
    r.shuffle(items)
    labels = join([F.LABELS[c] for c in cats], "or")
    core = r.choice(_SORT_ITEMS_CORES).format(l=labels, c=join(cats), c0=cats[0], c1=cats[1])
    obj = _list_obj(r, _KINDWORD[cats[0]])
    out = "\n".join(f"{cap(c)}: {', '.join(picked[c])}" for c in cats)
    return compose(r, obj, core), ", ".join(items), out


_SORT_ITEMS_CORES = _s("""sort them into {l}|group them as {l}|classify each one as {l}|put each
item in the right group ({l})|separate them into {c}|say which are {c0} and which are {c1}""")


def _list_obj(r: random.Random, kind: str) -> str:
    where = r.choice(_LIST_OBJ_WHERE)
    return f"list of {kind} {where}" if r.random() < 0.6 else f"list of {kind}"


_LIST_OBJ_WHERE = _s("""from a science worksheet|from a quiz|from a class exercise|for a revision
game|from a textbook chapter""")


def _odd_one(r: random.Random) -> Task:
    cats = r.choice(F.CATEGORY_PAIRS)
    same, odd_cat = r.sample(cats, 2)
    items = [*r.sample(F.CATEGORIES[same], 3), r.choice(F.CATEGORIES[odd_cat])]
    odd = items[-1]
    r.shuffle(items)
    core = r.choice(_ODD_ONE_CORES)
    obj = _list_obj(r, "four " + _KINDWORD[cats[0]])
    out = f"{cap(odd)}. It is one of the {odd_cat}, while the others are {same}."
    return compose(r, obj, core), ", ".join(items), out


_ODD_ONE_CORES = _s("""find the one that does not belong|identify the odd one out and explain
why|pick the item that differs from the rest|say which item is not like the others|spot the word
that does not fit""")


FAMILIES = (
    (_sentiment, 3),
    (_headline, 2),
    (_spam, 1.5),
    (_fact_opinion, 1.5),
    (_sort_items, 2),
    (_odd_one, 1.5),
)
