"""Tasks with computed answers: word problems, numbers, units, and code and SQL."""

from __future__ import annotations

import random

from pipeline.stub.families import facts as F
from pipeline.stub.families import vocab as V
from pipeline.stub.families.helpers import Task, a_, cap, join, num
from pipeline.stub.families.helpers import split_items as _s

_GOODS = _s("""notebooks|pens|apples|coffees|bus tickets|sandwiches|candles|plant pots|muffins|
stamps|towels|light bulbs""")


def _m_shop(r: random.Random) -> tuple[str, str]:
    n, (x, y) = r.choice(V.NAMES), r.sample(_GOODS, 2)
    a, b, p, q = r.randint(2, 9), r.randint(2, 9), r.randint(1, 15), r.randint(1, 15)
    return (
        f"{n} buys {a} {x} at ${p} each and {b} {y} at ${q} each. How much does {n} spend "
        "in total?",
        f"{a} x ${p} = ${a * p} and {b} x ${q} = ${b * q}, so {n} spends "
        f"${a * p + b * q} in total.",
    )


def _m_speed(r: random.Random) -> tuple[str, str]:
    who, lo, hi = r.choice(
        (
            ("A train", 60, 160),
            ("A car", 40, 110),
            ("A cyclist", 12, 30),
            ("A ferry", 20, 45),
            ("A delivery van", 30, 90),
        )
    )
    v, t = r.randint(lo, hi), r.randint(2, 6)
    return (
        f"{who} travels {v * t} kilometers in {t} hours. What is the average speed?",
        f"{v * t} / {t} = {v}, so the average speed is {v} kilometers per hour.",
    )


def _m_discount(r: random.Random) -> tuple[str, str]:
    item, p, pct = r.choice(V.PRODUCTS), r.randrange(20, 400, 5), r.choice((10, 15, 25, 30, 40))
    off = p * pct / 100
    return (
        f"{cap(a_(item))} {item} costs ${p} and is on sale for {pct}% off. What is the sale price?",
        f"{pct}% of ${p} is ${num(off)}, so the sale price is ${num(p - off)}.",
    )


def _m_area(r: random.Random) -> tuple[str, str]:
    length, width = r.randint(3, 30), r.randint(2, 19)
    place = r.choice(("garden", "room", "parking lot", "classroom", "swimming pool", "playground"))
    shape = f"A rectangular {place} is {length} meters long and {width} meters wide."
    if r.random() < 0.5:
        return (
            f"{shape} What is its area?",
            f"{length} x {width} = {length * width}, so it is {length * width} square meters.",
        )
    return (
        f"{shape} How much fencing is needed to go all the way around it?",
        f"2 x ({length} + {width}) = {2 * (length + width)}, so {2 * (length + width)} meters.",
    )


def _m_average(r: random.Random) -> tuple[str, str]:
    scores = [r.randint(55, 100) for _ in range(r.randint(3, 5))]
    avg = num(round(sum(scores) / len(scores), 2))
    return (
        f"{r.choice(V.NAMES)} scored {join([str(s) for s in scores])} on {len(scores)} tests. "
        "What is the average score?",
        f"({' + '.join(map(str, scores))}) / {len(scores)} = {avg}, so the average score is {avg}.",
    )


def _m_share(r: random.Random) -> tuple[str, str]:
    k = r.randint(3, 9)
    m, thing = (
        r.randint(k + 1, 60),
        r.choice(("cookies", "stickers", "marbles", "pencils", "grapes")),
    )
    q, rem = divmod(m, k)
    return (
        f"{k} friends share {m} {thing} equally. How many does each friend get, and how many "
        f"are left over?",
        f"{m} / {k} = {q} remainder {rem}: each friend gets {q} {thing} and {rem} are left over.",
    )


def _m_clock(r: random.Random) -> tuple[str, str]:
    h, mm, d = r.randint(1, 8), r.choice((0, 15, 30, 45)), r.randrange(35, 180, 5)
    eh, em = divmod(h * 60 + mm + d, 60)
    what = r.choice(("A film", "A concert", "A football match", "A lecture", "A board meeting"))
    return (
        f"{what} starts at {h}:{mm:02d} pm and lasts {d} minutes. At what time does it end?",
        f"{d} minutes is {d // 60} h {d % 60} min after {h}:{mm:02d} pm, so it ends at "
        f"{eh}:{em:02d} pm.",
    )


def _m_save(r: random.Random) -> tuple[str, str]:
    w, goal, item = r.randrange(5, 60, 5), r.randrange(100, 1500, 50), r.choice(V.PRODUCTS)
    weeks = -(-goal // w)
    return (
        f"If {r.choice(V.NAMES)} saves ${w} every week, how many weeks will it take to save "
        f"${goal} for {a_(item)} {item}?",
        f"{goal} / {w} = {num(round(goal / w, 2))}, so it takes {weeks} weeks.",
    )


_PROBLEMS = (_m_shop, _m_speed, _m_discount, _m_area, _m_average, _m_share, _m_clock, _m_save)


def _math(r: random.Random) -> Task:
    problem, answer = r.choice(_PROBLEMS)(r)
    if r.random() < 0.55:
        return problem + r.choice(("", "", " Show your work.", " Explain your steps.")), "", answer
    ask = r.choice(_MATH_ASKS)
    return ask, problem, answer


_MATH_ASKS = _s("""Solve this word problem.|Work out the answer to the following problem and show
your steps.|Answer the math question below.|Read the problem and compute the result.|Find the
solution to this problem and explain your reasoning briefly.""")


_LIST_OPS = (
    ("Sort these numbers from smallest to largest.", lambda ns: ", ".join(map(str, sorted(ns)))),
    (
        "Arrange the following numbers in descending order.",
        lambda ns: ", ".join(map(str, sorted(ns, reverse=True))),
    ),
    ("What is the largest number in this list?", lambda ns: str(max(ns))),
    ("Find the smallest value in the list below.", lambda ns: str(min(ns))),
    ("Add up the following numbers.", lambda ns: str(sum(ns))),
    ("Calculate the average of these numbers.", lambda ns: num(round(sum(ns) / len(ns), 2))),
    ("How many of these numbers are even?", lambda ns: str(sum(n % 2 == 0 for n in ns))),
    ("What is the median of the following numbers?", lambda ns: str(sorted(ns)[len(ns) // 2])),
    ("Compute the range of this set of numbers.", lambda ns: str(max(ns) - min(ns))),
)


def _numbers(r: random.Random) -> Task:
    kind = r.randrange(4)
    if kind < 2:
        ask, op = r.choice(_LIST_OPS)
        ns = r.sample(range(1, 100), r.choice((5, 7, 9)))
        return ask, ", ".join(map(str, ns)), op(ns)
    if kind == 2:
        a, b, c, d = (r.randint(2, 30) for _ in range(4))
        text, value = r.choice(
            (
                (f"({a} + {b}) * {c} - {d}", (a + b) * c - d),
                (f"{a} * {b} + {c}", a * b + c),
                (f"{a} - {b} * {c}", a - b * c),
            )
        )
        ask = r.choice(_NUMBERS_ASKS)
        return ask, text, str(value)
    words = list(r.sample(F.CATEGORIES[r.choice(tuple(F.CATEGORIES))], 5))
    if r.random() < 0.5:
        return "Sort these words in alphabetical order.", ", ".join(words), ", ".join(sorted(words))
    ask = "Put the following words in reverse alphabetical order."
    return ask, ", ".join(words), ", ".join(sorted(words, reverse=True))


_NUMBERS_ASKS = _s("""Evaluate this expression.|Calculate the result of the following
expression.|What is the value of the expression below?|Work out this arithmetic problem, following
the order of operations.""")


def _units(r: random.Random) -> Task:
    src, dst, factor = r.choice(F.UNITS)
    x = r.choice((r.randint(2, 100), r.randint(1, 20) * 5, round(r.uniform(1, 50), 1)))
    y = x * 9 / 5 + 32 if factor == "C2F" else x * float(factor)
    ask = r.choice(_UNITS_ASKS)
    exact = "=" if factor in ("60", "24", "C2F") else "is about"
    return (
        ask.format(x=num(x), s=src, d=dst),
        "",
        f"{num(x)} {src} {exact} {num(round(y, 2))} {dst}.",
    )


_UNITS_ASKS = _s("""Convert {x} {s} to {d}.|How many {d} are in {x} {s}?|What is {x} {s} in
{d}?|Express {x} {s} in {d}.""")


def _code(r: random.Random) -> Task:
    what, name, body = r.choice(F.CODE)
    ask = r.choice(_CODE_ASKS)
    out = body.format(f=name)
    if "explanation" in ask:
        out += f"\n\nThe function {name} {what}, and returns the result without side effects."
    return ask.format(w=what, f=name), "", out


_CODE_ASKS = _s("""Write a Python function that {w}.|How would you write a Python function that
{w}?|Implement a function called {f} that {w}.|Create a short Python function which {w}.|Show me a
simple Python function that {w}, with a short explanation.|In Python, write code that {w}.""")


def _program(r: random.Random) -> Task:
    """Alpaca's filters drop 'Write a program' (code or prose?), so a model's few are lost."""
    what, name, body = r.choice(F.CODE)
    return f"Write a program that {what}.", "", body.format(f=name)


def _code_explain(r: random.Random) -> Task:
    what, name, body = r.choice(F.CODE)
    ask = r.choice(_CODE_EXPLAIN_ASKS)
    if "name" in ask:
        return ask, body.format(f="helper"), f"A clearer name is {name}, because it {what}."
    out = f"The function {name} {what}. It takes one argument and returns a new value."
    return ask.format(a=r.choice(V.AUDIENCES)), body.format(f=name), out


_CODE_EXPLAIN_ASKS = _s("""Explain what the following code does.|Describe the purpose of this Python
function.|What does this function do?|Summarize the snippet below in one sentence for {a}.|Read
this code and explain it to {a}.|Suggest a clearer name for this function and explain what it
does.""")


_SQL_RANGES = {
    "age": (18, 65),
    "credit_limit": (1000, 9000),
    "total": (50, 500),
    "quantity": (2, 20),
    "price": (10, 200),
    "stock": (5, 100),
    "salary": (30000, 120000),
    "score": (50, 95),
    "years_of_service": (2, 20),
    "pages": (100, 600),
}


def _sql(r: random.Random) -> Task:
    table, rows, nums, groups = r.choice(F.TABLES)
    col, grp = r.choice(nums), r.choice(groups)
    n, k, said, by = r.randint(*_SQL_RANGES[col]), r.randint(3, 10), col.replace("_", " "), grp
    task, query = r.choice(
        (
            (
                f"find all {rows} whose {said} is above {n}",
                f"SELECT * FROM {table} WHERE {col} > {n};",
            ),
            (
                f"count the {rows} in each {by.replace('_', ' ')}",
                f"SELECT {by}, COUNT(*) AS n FROM {table} GROUP BY {by};",
            ),
            (
                f"list the {k} {rows} with the highest {said}",
                f"SELECT * FROM {table} ORDER BY {col} DESC LIMIT {k};",
            ),
            (f"compute the average {said} of all {rows}", f"SELECT AVG({col}) FROM {table};"),
            (
                f"show the total {said} for each {by.replace('_', ' ')}",
                f"SELECT {by}, SUM({col}) FROM {table} GROUP BY {by};",
            ),
        )
    )
    ask = r.choice(_SQL_ASKS)
    return ask.format(t=task, tb=table), "", query


_SQL_ASKS = _s("""Write a SQL query to {t}.|How would you {t} in SQL?|Give me a SQL statement that
can {t}.|Using a table called {tb}, write a query to {t}.""")


FAMILIES = (
    (_math, 4),
    (_numbers, 2.5),
    (_units, 1.5),
    (_code, 2),
    (_program, 1),
    (_code_explain, 1.5),
    (_sql, 1.5),
)
