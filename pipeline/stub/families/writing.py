"""Writing tasks: advice lists, stories, poems, messages, names, posts, dialogues, opinions."""

from __future__ import annotations

import random

from pipeline.stub.families import facts as F
from pipeline.stub.families import vocab as V
from pipeline.stub.families.helpers import Task, a_, cap, tail
from pipeline.stub.families.helpers import split_items as _s

_DOMAINS = tuple(V.GOALS)


_NUMBERS = {3: "three", 4: "four", 5: "five"}


def _numbered(items: list[str] | tuple[str, ...]) -> str:
    return "\n".join(f"{i}. {cap(item)}" for i, item in enumerate(items, 1))


def _tips(r: random.Random) -> Task:
    domain = r.choice(_DOMAINS)
    n = r.randint(3, 5)
    ask = r.choice(_TIPS_ASKS)
    said = _NUMBERS[n] if r.random() < 0.6 else str(n)
    ask = ask.format(n=said, g=r.choice(V.GOALS[domain]), p=r.choice(V.PEOPLE)) + tail(r, 0.2)
    return ask, "", _numbered(r.sample(V.TIPS[domain], n))


_TIPS_ASKS = _s("""List {n} ways to {g}.|How can I {g}?|What are some practical tips to {g}?|
Suggest {n} strategies that help {p} {g}.|Give me {n} ideas to {g}.|Brainstorm a few simple ways to
{g}.|I want to {g}. Where should I start?|What advice would you give someone who wants to {g}?|Come
up with {n} tips for people trying to {g}.|Name {n} habits that make it easier to {g}.|Help {p}
{g}: what should they do first?""")


def _story(r: random.Random) -> Task:
    who, what, where = r.choice(V.CHARACTERS), r.choice(V.SITUATIONS), r.choice(V.SETTINGS)
    thing, genre = r.choice(V.STORY_OBJECTS), r.choice(V.GENRES)
    ask = r.choice(_STORY_ASKS)
    ask = ask.format(
        c=who, s=what, t=where, o=thing, g=genre, a_g=a_(genre), a=r.choice(V.AUDIENCES)
    )
    the = "the " + who.split(" ", 1)[1] if who.startswith(("a ", "an ")) else who
    ending = r.choice(_STORY_ENDING)
    out = (
        f"{cap(who)} lives {where}. One {r.choice(('morning', 'rainy evening', 'winter night'))}, "
        f"{the} {what}. At first it seems like a small thing, but {thing} turns out to matter "
        f"more than anyone expected. By nightfall, {the} {ending}."
    )
    return ask, "", out


_STORY_ASKS = _s("""Write a short story in which {c} {s}.|Tell {a_g} {g} story set {t}.|Compose a
five-sentence story about {c} and {o}.|Write the opening paragraph of {a_g} {g} story about
{c}.|Create a short {g} tale in which {c} {s} {t}.|Invent a bedtime story about {o} for {a}.""")


_STORY_ENDING = _s("""has made an unlikely friend|has solved the puzzle and learned to trust
others|has found the courage to ask for help|knows that home was the real treasure|is laughing
about the whole thing""")


def _poem(r: random.Random) -> Task:
    topic = r.choice(V.NATURE)
    ask = r.choice(_POEM_ASKS)
    ask = ask.format(n=topic, a=r.choice(V.AUDIENCES))
    if "haiku" in ask:
        lines = [
            cap(topic),
            r.choice(
                (
                    "quiet as a held breath",
                    "the world slows down to listen",
                    "soft light on an empty street",
                )
            ),
            r.choice(("and the day lets go", "a small bird answers", "time forgets to move")),
        ]
    elif "couplet" in ask:
        lines = [f"{cap(topic)} arrives without a sound,", "and leaves its quiet all around."]
    else:
        lines = [
            f"I went outside to look for {topic},",
            r.choice(_LINES),
            r.choice(_LINES),
            "and came home lighter than I left.",
        ]
    return ask, "", "\n".join(lines)


_POEM_ASKS = _s("""Write a haiku about {n}.|Compose a four-line poem about {n}.|Write a short poem
about {n} for {a}.|Create a rhyming couplet about {n}.|Write a few lines of free verse describing
{n}.""")


_LINES = _s("""the air was soft and full of waiting|each step was slower than the last|a neighbor
waved and said nothing|the streetlights hummed their one low note|the wind kept every secret""")


def _purpose(r: random.Random) -> str:
    if r.random() < 0.3:
        return r.choice(V.PURPOSES)
    thing = r.choice(_MATTERS).format(
        x=r.choice(V.PRODUCTS), d=r.choice(V.WEEKDAYS), m=r.choice(V.MONTHS), e=r.choice(V.EVENTS)
    )
    return f"to {r.choice(_ACTS)} {thing}"


_ACTS = _s("""ask about|confirm|reschedule|cancel|follow up on|apologize for a mistake in|request a
copy of|complain politely about|give feedback on|say thanks for""")


_MATTERS = _s("""the delivery of a {x}|our meeting on {d}|the invoice for {m}|the booking for next
{d}|the repair of a broken {x}|{e}|the {m} newsletter|the project plan for {m}|the budget for
{m}|my order of a {x}|the schedule for {e}""")


def _email(r: random.Random) -> Task:
    who, why = r.choice(V.RECIPIENTS), _purpose(r)
    ask = r.choice(_EMAIL_ASKS)
    extra = r.choice(_EMAIL_EXTRA)
    out = (
        f"Dear {r.choice(V.NAMES)},\n\nI am writing {why}. {extra}\n\nBest regards,\n"
        f"{r.choice(V.NAMES)}"
    )
    return ask.format(w=who, p=why), "", out


_EMAIL_ASKS = _s("""Write an email to {w} {p}.|Draft a short message to {w} {p}.|Compose a polite
note to {w} {p}.|Help me write an email {p}.|Write a brief, friendly letter to {w} {p}.""")


_EMAIL_EXTRA = _s("""I would be grateful for a reply this week.|Thank you for your time and
understanding.|I am happy to talk on the phone if that is easier.""")


def _recommend(r: random.Random) -> Task:
    kind, person, n = r.choice(tuple(F.RECS)), r.choice(V.PEOPLE), r.randint(2, 4)
    ask = r.choice(_RECOMMEND_ASKS)
    return ask.format(n=n, k=kind, p=person), "", _numbered(r.sample(F.RECS[kind], n))


_RECOMMEND_ASKS = _s("""Recommend {n} {k} for {p}.|What {k} would you suggest for {p}?|Suggest a few
{k} that suit {p}, with a reason for each.|Which {k} are a good fit for {p}?""")


def _pros_cons(r: random.Random) -> Task:
    choice, pro, con = r.choice(F.PROS_CONS)
    ask = r.choice(_PROS_CONS_ASKS)
    out = (
        f"Pro: {pro}.\nCon: {con}.\nOverall, {choice} suits people who value the first more "
        "than they mind the second."
    )
    return ask.format(c=choice, p=r.choice(V.PEOPLE)), "", out


_PROS_CONS_ASKS = _s("""What are the pros and cons of {c}?|List one advantage and one disadvantage
of {c}.|Weigh the benefits and drawbacks of {c} for {p}.|Should {p} consider {c}? Give both
sides.|Is {c} a good idea? Explain the trade-offs.""")


def _howto(r: random.Random) -> Task:
    task, steps = r.choice(F.HOWTO)
    ask = r.choice(_HOWTO_ASKS)
    return ask.format(t=task, a=r.choice(V.AUDIENCES)), "", _numbered(steps)


_HOWTO_ASKS = _s("""Describe the steps to {t}.|How do I {t}?|Explain how to {t} in four steps.|Give
step-by-step instructions to {t}.|What is the best way to {t}?|Walk {a} through how to {t}.""")


def _naming(r: random.Random) -> Task:
    biz, person = r.choice(V.BUSINESSES), r.choice(V.PEOPLE)
    kind, n = r.randrange(3), r.randint(3, 5)
    if kind == 0:
        ask = r.choice(_NAME_ASKS)
        names = {f"The {r.choice(V.NAME_WORDS[0])} {r.choice(V.NAME_WORDS[1])}" for _ in range(n)}
        return ask.format(n=n, b=biz), "", _numbered(sorted(names))
    if kind == 1:
        ask = r.choice(_SLOGAN_ASKS)
        out = r.choice(_SLOGANS)
        return ask.format(b=biz, p=person), "", out
    product = r.choice(V.PRODUCTS)
    ask = r.choice(_DESCRIBE_ASKS)
    out = (
        f"Meet the {product} made for everyday life: simple to use, sturdy and easy to care "
        f"for. It saves time, fits neatly at home or on the go, and comes with a two-year "
        f"warranty, so it is a safe choice for {person}."
    )
    return ask.format(a=a_(product), x=product, p=person), "", out


_DESCRIBE_ASKS = _s("""Write a short product description for {a} {x} aimed at {p}.|Create an online
shop listing for {a} {x}.|Describe {a} {x} in a way that would appeal to {p}.""")


_NAME_ASKS = _s("""Suggest {n} names for {b}.|Brainstorm {n} possible names for {b}.|Come up with
{n} catchy names for {b}.""")


_SLOGAN_ASKS = _s("""Write a catchy slogan for {b}.|Create a tagline for {b} that appeals to
{p}.|Give me a short motto for {b}.""")


_SLOGANS = _s("""Good things start here.|Made with care, made for you.|Small place, big
heart.|Better every day.|Where your day gets easier.|Simple, honest, close to home.""")


def _post(r: random.Random) -> Task:
    event = r.choice(V.EVENTS)
    ask = r.choice(_POST_ASKS)
    out = f"Save the date: {event}! {r.choice(_COME)} See you there!"
    return ask.format(e=event, p=r.choice(V.PEOPLE)), "", out


_POST_ASKS = _s("""Write a tweet announcing {e}.|Compose a short social media post about {e}.|Draft
an announcement for {e} in under 50 words.|Create a friendly invitation to {e} for {p}.|Write a
notice for the office noticeboard about {e}.""")


_COME = _s("""Everyone is welcome, so bring a friend.|Spaces are limited, so sign up early.|Come for
an hour or stay all day.""")


def _dialogue(r: random.Random) -> Task:
    roles, topic = r.choice(V.ROLES), r.choice(V.TOPICS)
    ask = r.choice(_DIALOGUE_ASKS)
    out = (
        f"A: Have you thought much about {topic}?\nB: A little. I think it matters more than "
        "people admit.\nA: Why do you say that?\nB: Because it changes small daily choices, "
        "and those add up.\nA: Fair point. Let's talk about it again next week."
    )
    return ask.format(r=roles, t=topic), "", out


_DIALOGUE_ASKS = _s("""Write a short dialogue between {r} about {t}.|Create a conversation in which
{r} discuss {t}.|Script a brief exchange between {r} on the subject of {t}.""")


def _opinion(r: random.Random) -> Task:
    topic = r.choice(V.TOPICS)
    ask = r.choice(_OPINION_ASKS)
    first, second = r.sample(_OPINION, 2)
    out = (
        f"The question of {topic} deserves more attention than it gets. {first} {second} "
        "In short, small steps here can make a real difference."
    )
    return ask.format(t=topic, a=r.choice(V.AUDIENCES)) + tail(r, 0.2), "", out


_OPINION_ASKS = _s("""Give three reasons why people should care about {t}.|Write a short persuasive
paragraph about {t}.|Argue for or against {t} in a few sentences.|What are the main arguments in
favor of {t}?|Write a brief introduction for an essay on {t}.|What might change if more cities
invested in {t}?|How has {t} changed in the last ten years?|What is your view on {t}, and
why?|Explain why {t} is a common topic of debate.|What would {a} find surprising about {t}?""")


_OPINION = _s("""It touches everyday life for families, workers and students alike.|The costs of
ignoring it tend to grow over time.|Good examples already exist, so change is realistic.|It brings
people together around a shared goal.|Clear information helps people make better choices about
it.""")


FAMILIES = (
    (_tips, 4),
    (_story, 2.5),
    (_poem, 1.5),
    (_email, 2.5),
    (_recommend, 2),
    (_pros_cons, 2),
    (_howto, 1.5),
    (_naming, 2),
    (_post, 1.5),
    (_dialogue, 1),
    (_opinion, 3.5),
)
