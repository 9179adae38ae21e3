"""Open-ended stub tasks about composed topics: an aspect of a subject, often for a group or place.

Real models draw on an open-ended range of subjects, which is what keeps most of their
instructions novel under ROUGE-L as the pool grows. Composing aspect x subject x group/place gives
tens of thousands of distinct topics, and many frames (questions, commands, lists, short pieces
of writing) give them different shapes. The answers are short, on-topic, generic texts.
"""

from __future__ import annotations

import random

from pipeline.stub.families import vocab as V
from pipeline.stub.families.helpers import Task, cap
from pipeline.stub.families.helpers import split_items as _s

SUBJECTS = _s("""electric cars|remote work|urban gardening|honeybees|public libraries|3D printing|
volcanoes|coral reefs|social media|online shopping|solar energy|wind farms|recycling programs|fast
food|space tourism|self-driving trucks|vertical farming|plastic packaging|the gig economy|
microplastics|cryptocurrencies|telemedicine|smart homes|e-books|public transport|bicycle lanes|
carbon taxes|minimum wage laws|four-day work weeks|homeschooling|standardized tests|school
lunches|student loans|online learning|coding bootcamps|museums|national parks|street food|organic
farming|food delivery apps|plant-based meat|coffee culture|marathon running|yoga|team sports|
chess|podcasts|streaming services|local newspapers|citizen journalism|misinformation|data
privacy|facial recognition|password security|cloud storage|smartphones|fitness trackers|sleep
habits|meditation|vitamin supplements|antibiotic resistance|vaccination campaigns|clean drinking
water|air pollution|noise pollution|light pollution|urban heat islands|deforestation|wildfires|
flood defenses|earthquake preparedness|hurricanes|melting glaciers|ocean currents|deep-sea
exploration|the Moon landing|missions to Mars|satellites|weather forecasting|battery storage|
nuclear power|hydrogen fuel|electric scooters|high-speed rail|air travel|cruise ships|tourism in
small towns|minimalist living|tiny houses|co-working spaces|shared housing|retirement savings|
credit scores|budgeting apps|small businesses|family farms|fair trade|global supply chains|online
reviews|loyalty programs|advertising to children|influencer marketing|job interviews|remote
hiring|workplace diversity|mentoring|volunteering|community gardens|public art|street
performers|theater|poetry|comic books|fairy tales|historical novels|language learning|sign
language|bilingual education|handwriting|homework|school uniforms|after-school clubs|screen
time|online gaming|esports|virtual reality|artificial intelligence|chatbots|robotics|factory
automation|delivery drones|open-source software|cybersecurity|rural internet access|digital
literacy|online banking|cashless payments|pet adoption|dog training|urban wildlife|bird
migration|pollinators|composting|food waste|water conservation|fast fashion|secondhand
clothing|repair cafes|the Olympic Games|the printing press|the Industrial Revolution|ancient
Rome|the Silk Road|the Renaissance|the invention of the telephone|penicillin|the metric system|
time zones|daylight saving time|public holidays|tipping customs|table manners|online dating|
friendship|loneliness|gratitude|habits|procrastination|public speaking|negotiation|leadership|
teamwork|customer service|first aid|home insurance|renting an apartment|moving abroad|learning to
drive|camping|bird watching|baking bread|home brewing|knitting|photography|woodworking""")


ASPECTS = _s("""the history of {s}|the benefits of {s}|common myths about {s}|the environmental
impact of {s}|the future of {s}|the ethics of {s}|the economics of {s}|safety concerns about
{s}|the biggest challenges facing {s}|recent changes in {s}|the role of {s} in modern life|why
people disagree about {s}|the science behind {s}|the costs and benefits of {s}|what beginners
should know about {s}|the link between {s} and {s2}|how {s} differs from country to country|how {s}
might change over the next decade|lessons we can learn from {s}|the impact of {s} on {g}|how {g}
can benefit from {s}|the risks of {s} for {g}|{s}|{s} {c}|the pros and cons of {s}|the arguments
for and against {s}|how {s} works|surprising facts about {s}|the hidden costs of {s}| public
attitudes toward {s}|how to get started with {s}|the case for regulating {s}|the growth of {s}
{c}|what {g} think about {s}|the role of {g} in {s}""")


GROUPS = _s("""small businesses|teenagers|farmers|older adults|city dwellers|teachers|nurses|
students|new parents|people with disabilities|low-income families|local governments|rural
communities|shop owners|software developers|athletes|artists|immigrants|commuters|retirees| factory
workers|truck drivers|scientists|journalists|tourists|young children|college
graduates|landlords|renters|volunteers""")


PLACES = _s("""in rural areas|in developing countries|in large cities|during an economic downturn|in
the workplace|in primary schools|over the past fifty years|in coastal regions|in Northern Europe|in
South America|in East Asia|in small island nations|on college campuses|in hospitals|in the
twenty-first century|after a natural disaster|in mountain villages|for families on a tight
budget|in the restaurant industry|in the travel industry|in everyday life""")


OCCASIONS = _s("""a school assembly|a town hall meeting|a team meeting|a graduation ceremony|a
community fair|a science club|a conference panel|a parents' evening|a radio interview""")


LENGTHS = _s("""two sentences|under 100 words|one short paragraph|three sentences|plain language|no
more than 60 words|simple terms""")


PROSE = _s("""Explain {T}.|Describe {T}.|Discuss {T}.|Tell me about {T}.|Write about {T}.|Give an
overview of {T}.|Summarize {T}.|Write a short paragraph on {T}.|What should {a} know about
{T}?|Write a persuasive paragraph about {T}.|Draft a blog post introduction on {T}.|Compose a short
speech on {T} for {o}.|How would you explain {T} to {a}?|Write a newsletter blurb on {T}.|Write an
opinion piece on {T}.|Provide a balanced view of {T}.|Write an encyclopedia entry on {T}.|Offer
your perspective on {T}.|Draft a short report on {T}.|Write a letter to the editor about {T}.|What
is the key thing to understand about {T}?|Reflect on {T}.|Pitch a project on {T}.|Why does {T}
matter?|What would a historian say about {T}?|Report on {T} as a journalist would.|Analyze
{T}.|Comment on {T}.|Evaluate {T}.|Characterize {T}.|Make the case for caring about {T}.""")


LISTS = _s("""List {n} key facts about {T}.|Give {n} examples of {T}.|Outline a talk on {T}.|Prepare
{n} talking points on {T} for {o}.|Outline an essay on {T}.|What should a lesson on {T} cover?|Name
{n} things to know about {T}.|Identify {n} open questions about {T}.""")


QUESTIONS = _s("""What {n} questions do people ask about {T}?|Suggest {n} research questions on
{T}.|Write {n} discussion questions on {T}.|Come up with {n} quiz questions about {T}.|Write {n}
interview questions about {T}.""")


HEADLINES = _s("""Brainstorm {n} headlines about {T}.|Suggest {n} podcast episode titles on
{T}.|Propose {n} names for a workshop on {T}.""")


_EXTRAS = _s("""for {a}| in {l}| for {o}| for a general audience| for {a}, in {l}""")


_POINTS = _s("""The origins and growth of {s}|Who is most affected by {s}|The main costs
involved|Common mistakes people make|What experts broadly agree on|Where the evidence is still
unclear|A comparison of {s} with the alternatives|What ordinary people can do|A surprising fact
about {s}|The role of governments and businesses|Likely changes in the coming years|Where to learn
more about {s}""")


_ASKS = _s("""What is the biggest misunderstanding about {s}?|Who benefits most from {s}?|How has
{s} changed in the last twenty years?|What would happen without {s}?|How much does {s} cost, and
who pays?|What can individuals do about {s}?|Which countries handle {s} best?|What does the
research say about {s}?""")


_TITLES = _s("""{S}: What You Need to Know|The Truth About {S}|Why {S} Matters More Than Ever|{S}
Explained in Five Minutes|Inside the World of {S}|Rethinking {S}|A Beginner's Guide to {S}""")


_SAY = _s("""This topic touches more parts of everyday life than most people expect.|Views on {s}
differ depending on who you ask and where they live.|Understanding {t} starts with a few basic
facts and a willingness to ask questions.|Attitudes toward {s} have changed a great deal over the
years.|For most people, the practical side of {s} matters more than the theory.|There are real
benefits, but also trade-offs that deserve an honest look.|A good next step is to read a reliable
source and talk to people with direct experience.|In short, the subject rewards curiosity and
careful thinking.""")


_COUNTS = {2: "two", 3: "three", 4: "four", 5: "five"}


def _topic(r: random.Random) -> tuple[str, str]:
    """A composed topic and its bare subject."""
    subject, other = r.sample(SUBJECTS, 2)
    group, place = r.choice(GROUPS), r.choice(PLACES)
    topic = r.choice(ASPECTS).format(s=subject, s2=other, g=group, c=place)
    roll = r.random()
    if roll < 0.25 and place not in topic:
        topic += " " + place
    elif roll < 0.4 and group not in topic:
        topic += f" {r.choice(('for', 'among'))} {group}"
    return topic, subject


def _topic_task(r: random.Random) -> Task:
    topic, subject = _topic(r)
    kind = r.random()
    frames, pool = (
        (PROSE, None)
        if kind < 0.6
        else (LISTS, _POINTS)
        if kind < 0.8
        else (QUESTIONS, _ASKS)
        if kind < 0.93
        else (HEADLINES, _TITLES)
    )
    n = r.randint(2, 5) if pool is _TITLES else r.randint(3, 5)
    slots = {
        "T": topic,
        "a": r.choice(V.AUDIENCES),
        "o": r.choice(OCCASIONS),
        "l": r.choice(LENGTHS),
        "n": _COUNTS[n] if r.random() < 0.6 else str(n),
    }
    ask = r.choice(frames)
    if pool is None and r.random() < 0.4 and "{" not in ask.replace("{T}", ""):
        ask = f"{ask[:-1]} {r.choice(_EXTRAS)}{ask[-1]}"
    ask = ask.format(**slots)
    if pool is None:
        said = r.sample(_SAY, 3)
        out = " ".join(s.format(T=cap(topic), t=topic, s=subject) for s in said)
    else:
        title = subject.title() if pool is _TITLES else subject
        items = (p.format(s=subject, S=title) for p in r.sample(pool, n))
        out = "\n".join(f"{i}. {item}" for i, item in enumerate(items, 1))
    return ask, "", out


FAMILIES = ((_topic_task, 30),)
