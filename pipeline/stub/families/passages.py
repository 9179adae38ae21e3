"""Short passages (announcements, studies, fairs, launches) to summarize, title, mine or quiz."""

from __future__ import annotations

import random

from pipeline.stub.families import vocab as V
from pipeline.stub.families.helpers import Task, a_, compose, join, poss
from pipeline.stub.families.helpers import split_items as _s

# slots of the short passages that summarizing and extraction tasks read
FACILITIES = _s("""warehouse|research center|factory|training campus|data center|repair workshop""")


WORRIES = _s("""more traffic on nearby roads|rising rents in the area|noise during construction|the
loss of a popular green space|pressure on local schools""")


HABITS = _s("""walked at least thirty minutes a day|ate fish twice a week|slept seven to eight hours
a night|read for pleasure most days|spent time outdoors every weekend|drank mostly water""")


OUTCOMES = _s("""develop heart disease|report feeling lonely|have trouble sleeping|lose memory
skills in old age|need a hospital stay|feel anxious at work""")


FAIRS = _s(
    """food festival|book fair|science fair|street art festival|winter market|kite festival"""
)


VENUES = _s("""Riverside Park|the old harbor|the central square|the convention center|Union Hall""")


ACTS = _s("""cooking demonstrations|a reading corner for children|live jazz bands|a robot-building
contest|local craft stalls|a charity fun run|talks by local authors|an evening lantern parade""")


GADGET_NAMES = _s("""Aero|Nimbus|Pulse|Orbit|Vista|Echo|Nova|Zephyr""")


FEATURES = _s("""charges fully in twenty minutes|folds small enough to fit in a coat pocket|tracks
sleep as well as steps|works without an internet connection|runs for a week on one charge""")


PRAISES = _s("""battery life|light weight|simple design|quiet operation|sturdy build""")


GRIPES = _s("""high price|short warranty|limited color choices|slow setup|bulky charger""")


DOC_KINDS = _s("""paragraph|news item|press release|article excerpt|passage|announcement|text""")


def org_name(r: random.Random) -> str:
    """A made-up company name such as "Harbor Robotics"."""
    return f"{r.choice(V.ORG_HEADS)} {r.choice(V.ORG_TAILS)}"


def _passage_task(r: random.Random) -> Task:
    org = org_name(r)
    text, summary, title, found, questions, hint = r.choice(PASSAGES)(r, org)
    obj, kind = f"{r.choice(DOC_KINDS)} about {hint}", r.randrange(4)
    n = r.randint(2, 4)
    if kind == 0:
        core, out = (
            r.choice(_SUMMARY_CORES),
            summary,
        )
    elif kind == 1:
        core, out = (
            r.choice(_TITLE_CORES),
            title,
        )
    elif kind == 2:
        what = r.choice(tuple(found))
        core = r.choice(_EXTRACT_CORES).replace("{w}", what)
        out = ", ".join(found[what])
    else:
        core = r.choice(_QUIZ_CORES).replace("{n}", ("two", "three", "four")[n - 2])
        out = "\n".join(f"{i}. {q}" for i, q in enumerate(questions[:n], 1))
    return compose(r, obj, core.format(a=r.choice(V.AUDIENCES))), text, out


_SUMMARY_CORES = _s("""summarize it in one sentence|give a one-sentence summary of it|state its
main point|condense it into a single sentence for {a}|explain what it is about in your own
words|write a tweet-length summary of it""")


_TITLE_CORES = _s("""suggest a headline for it|write a short title for it|propose a title
that would make people read it""")


_EXTRACT_CORES = _s("""list all the {w} it mentions|extract every {w} from it|pull out the {w}
named in it|find the {w} that appear in it""")


_QUIZ_CORES = _s("""write {n} questions that can be answered from it|create a short quiz of
{n} questions based on it|suggest {n} questions a teacher could ask about it""")


def _p_site(r: random.Random, org: str) -> tuple:
    fac, city, cost = r.choice(FACILITIES), r.choice(V.CITIES), r.randint(5, 90)
    jobs, month, day = r.randrange(50, 900, 10), r.choice(V.MONTHS), r.choice(V.WEEKDAYS)
    text = (
        f"{org} announced on {day} that it will open a new {fac} in {city}. The project will "
        f"cost about {cost} million dollars and is expected to create {jobs} jobs. "
        f"Construction is planned to start in {month}. Local leaders welcomed the news, "
        f"although some residents worry about {r.choice(WORRIES)}."
    )
    summary = (
        f"{org} will build a {cost}-million-dollar {fac} in {city} that should create "
        f"{jobs} jobs, with work starting in {month}."
    )
    found = {
        "numbers": [str(cost), str(jobs)],
        "places": [city],
        "organizations": [org],
        "dates": [day, month],
    }
    questions = (
        f"Where will the new {fac} be built?",
        "How many jobs should the project create?",
        "When is construction planned to start?",
        "What are some residents worried about?",
    )
    title = f"{org} to Open New {fac.title()} in {city}"
    return text, summary, title, found, questions, f"a new {fac} in {city}"


def _p_study(r: random.Random, org: str) -> tuple:
    city, n, years, pct = (
        r.choice(V.CITIES),
        r.randrange(800, 20000, 100),
        r.randint(3, 15),
        r.randint(10, 45),
    )
    habit, outcome = r.choice(HABITS), r.choice(OUTCOMES)
    text = (
        f"A new study from the University of {city} followed {n:,} adults for {years} years. "
        f"Researchers found that people who {habit} were {pct} percent less likely to "
        f"{outcome}. The authors note that the study shows a link, not proof of cause, and "
        "they call for more research."
    )
    summary = (
        f"A {years}-year study of {n:,} adults found that those who {habit} were {pct}% "
        f"less likely to {outcome}, although the link may not be causal."
    )
    found = {
        "numbers": [f"{n:,}", str(years), str(pct)],
        "places": [city],
        "organizations": [f"the University of {city}"],
    }
    questions = (
        "How many adults took part in the study?",
        "How long were they followed?",
        "Which habit did the study look at?",
        "Does the study prove cause and effect?",
    )
    title = f"Study Links Daily Habit to {pct} Percent Lower Risk"
    return (
        text,
        summary,
        title,
        found,
        questions,
        f"{a_(str(years))} {years}-year health study in {city}",
    )


def _p_fair(r: random.Random, org: str) -> tuple:
    fair, city, venue, month = (
        r.choice(FAIRS),
        r.choice(V.CITIES),
        r.choice(VENUES),
        r.choice(V.MONTHS),
    )
    day, acts, price, crowd = (
        r.randint(1, 28),
        r.sample(ACTS, 3),
        r.randint(5, 25),
        r.randint(2, 40),
    )
    text = (
        f"The {city} {fair} returns on {month} {day} at {venue}. This year's program includes "
        f"{join(acts)}. Tickets cost {price} dollars for adults, and children under twelve get "
        f"in free. Organizers, led by {org}, expect about {crowd} thousand visitors."
    )
    summary = (
        f"The {city} {fair} comes to {venue} on {month} {day} with {acts[0]} and more, "
        f"with adult tickets at {price} dollars."
    )
    found = {
        "numbers": [str(day), str(price), str(crowd)],
        "places": [city, venue],
        "organizations": [org],
        "dates": [f"{month} {day}"],
    }
    questions = (
        "When does the event take place?",
        "How much does an adult ticket cost?",
        "Name two things on this year's program.",
        "How many visitors are expected?",
    )
    title = f"{city} {fair.title()} Returns on {month} {day}"
    return text, summary, title, found, questions, f"the {city} {fair}"


def _p_launch(r: random.Random, org: str) -> tuple:
    name = f"{r.choice(GADGET_NAMES)} {r.randint(2, 9)}"
    kind = r.choice(("smartwatch", "pair of earbuds", "e-reader", "portable speaker", "tablet"))
    month, day, price = r.choice(V.MONTHS), r.randint(1, 28), r.randrange(49, 400, 10)
    feature, praise, gripe = r.choice(FEATURES), r.choice(PRAISES), r.choice(GRIPES)
    text = (
        f"{org} has released the {name}, {a_(kind)} {kind} that {feature}. It goes on sale on "
        f"{month} {day} for {price} dollars. Early reviewers praised its {praise} but "
        f"criticized its {gripe}."
    )
    summary = (
        f"{poss(org)} new {kind}, the {name}, {feature} and costs {price} dollars; reviewers "
        f"like its {praise} but not its {gripe}."
    )
    found = {"numbers": [str(day), str(price)], "organizations": [org], "dates": [f"{month} {day}"]}
    questions = (
        "What is the new product called?",
        "How much will it cost?",
        "What did early reviewers like?",
        "What did reviewers criticize?",
    )
    return text, summary, f"{org} Launches the {name}", found, questions, f"{poss(org)} new {kind}"


PASSAGES = (_p_site, _p_study, _p_fair, _p_launch)


FAMILIES = ((_passage_task, 5),)
