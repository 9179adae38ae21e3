"""The conversations cost model. Every turn re-sends the conversation so far, so a turn's
prompt grows by a user message and an answer per turn before it, and a conversation's prompt
tokens grow with the square of its turns. Turn t is asked of the openings planned at >= t turns
(known exactly: the plan is seeded) that survived every turn before; what a turn keeps and how
long its messages are come from priors, replaced by what the cache or a --pilot measured
(pooled over the turns: a pilot follows its conversations through all of them)."""

from __future__ import annotations

import statistics

from pipeline.estimate.models import Context, StageNumbers, map_stage, per_prompt
from pipeline.estimate.observe import StageObs
from pipeline.estimate.stats import SCENARIOS, lognormal, share
from pipeline.formats.chat import user_text
from pipeline.methods.conversations.turns import END_MARKER

USER_TOKENS = (30.0, 2.5)  # a follow-up question: a sentence or two
ANSWER_TOKENS = (300.0, 8.0)  # terse local models to verbose GPT-4-class answers
USER_GOES_ON = (0.85, 10.0)  # a user turn that passes the checks and does not end it
ANSWER_KEEP = (0.95, 10.0)  # not empty, not cut off, no refusal, no role leak
SELF_CHAT_FACTOR = 12.0  # x/÷ of a transcript's length before a pilot
LABEL_TOKENS = 2.0  # "User: " / "Assistant: " before each message of a transcript
MESSAGE_TOKENS = 4.0  # what a chat API adds around each message it is sent


def _mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def _pooled(ctx: Context, names: list[str]) -> tuple[list[StageObs], list[float]]:
    stages = [ctx.obs(n) for n in names]
    return stages, [v for s in stages for v in per_prompt(s.completion_per_request, s)]


def _went_on(stages: list[StageObs]) -> tuple[int, int]:
    """User turns that went on (kept, not an end of the conversation), of those judged."""
    on = sum(1 for s in stages for e in s.kept if e.meta.get("ended") != "user_ended")
    return on, sum(s.generated for s in stages)


def _planned_at(turn: int, conversations: list) -> int:
    return sum(e.meta["planned"] >= turn for e in conversations)


def simulate(ctx: Context) -> tuple[dict[str, list[StageNumbers]], str]:
    c, recipe = ctx.config, ctx.recipe
    o, kept = c.options, recipe.openings.kept
    high = o.turn_range[1]
    users, user_samples = _pooled(ctx, [f"user-{t}" for t in range(2, high + 1)])
    answers, answer_samples = _pooled(ctx, [f"answer-{t}" for t in range(1, high + 1)])
    user_len = lognormal(*USER_TOKENS, user_samples, c.max_tokens)
    answer_len = lognormal(*ANSWER_TOKENS, answer_samples, o.answer_max_tokens)
    goes_on = share(*USER_GOES_ON, *_went_on(users))
    keep = share(*ANSWER_KEEP, sum(len(s.kept) for s in answers), sum(s.generated for s in answers))
    given = [e for e in kept if e.meta["reached"] == 1]
    fresh = [e for e in kept if e.meta["reached"] == 0]
    opening = _mean([ctx.count(user_text(e)) for e in kept]) + LABEL_TOKENS
    given_answer = _mean([ctx.count(e.output) for e in given])
    base = ctx.text_tokens(recipe.user.render(transcript="", end_marker=END_MARKER))
    system = ctx.count(o.system) if o.system else 0
    per_message = MESSAGE_TOKENS if ctx.chat_overhead else 0.0
    first = _mean([ctx.text_tokens(user_text(e), o.system) for e in fresh])
    user_model = o.user_model or c.model
    answer_model = o.assistant_model or c.model
    out: dict[str, list[StageNumbers]] = {}
    for s in SCENARIOS:
        stages = [map_stage(ctx, answers[0], len(fresh), first, answer_len[s], model=answer_model)]
        answered = len(given) + keep[s] * len(fresh)
        alive = answered / max(len(kept), 1)  # the share of openings still going
        first_answer = (len(given) * given_answer + keep[s] * len(fresh) * answer_len[s]) / max(
            answered, 1e-9
        )
        # While every stage before was answered for its whole list (a finished run, not a
        # pilot's first items), who reaches turn t is known exactly, not modelled.
        exact = answers[0].prompts >= len(fresh)
        for t in range(2, high + 1):
            planned = sum(e.meta["planned"] >= t for e in kept)
            history = opening + first_answer + LABEL_TOKENS
            history += (t - 2) * (user_len[s] + answer_len[s] + 2 * LABEL_TOKENS)
            asked = planned * alive
            if exact:
                asked = _planned_at(t, answers[t - 2].kept) + (
                    _planned_at(t, given) if t == 2 else 0
                )
            stages.append(
                map_stage(ctx, users[t - 2], asked, base + history, user_len[s], model=user_model)
            )
            prompt = system + history + user_len[s] + per_message * (2 * t - 1)
            replied = asked * goes_on[s]
            exact = exact and users[t - 2].prompts >= asked
            if exact:
                replied = _went_on([users[t - 2]])[0]
            exact = exact and answers[t - 1].prompts >= replied
            stages.append(
                map_stage(ctx, answers[t - 1], replied, prompt, answer_len[s], model=answer_model)
            )
            alive *= goes_on[s] * keep[s]
        out[s] = stages
    note = (
        f"user turns {goes_on.expected:.0%} go on, answers {keep.expected:.0%} kept; user "
        f"messages {user_len.expected:.0f} tokens, answers {answer_len.expected:.0f} tokens; "
        "each turn re-sends the conversation so far"
    )
    return out, note


def self_chat(ctx: Context) -> tuple[dict[str, list[StageNumbers]], str]:
    c, recipe = ctx.config, ctx.recipe
    chat, method = ctx.obs("chat"), recipe.stage(0, []).method
    kept = method.openings  # those already complete (one turn, their own answer) send nothing
    prompt = _mean([ctx.request_tokens(method.plan(i)) for i in range(min(len(kept), 2000))])
    turns = _mean([e.meta["planned"] for e in kept])
    # What a transcript writes: the first answer unless given, then each later exchange.
    exchange = USER_TOKENS[0] + ANSWER_TOKENS[0]
    prior = _mean([(e.meta["planned"] - 1) * exchange + (e.meta["reached"] == 0) * ANSWER_TOKENS[0]
                   for e in kept])  # fmt: skip
    samples = per_prompt(chat.completion_per_request, chat)
    # Wider than an answer's prior: one model writing both sides may write anything from a few
    # lines a turn to full answers (the stub's transcripts are 1/10 of this median).
    length = lognormal(prior, SELF_CHAT_FACTOR, samples, c.options.transcript_max_tokens)
    model = c.options.assistant_model or c.model
    out = {s: [map_stage(ctx, chat, len(kept), prompt, length[s], model=model)] for s in SCENARIOS}
    return out, f"transcripts of {turns:.1f} planned turns, {length.expected:.0f} tokens each"


def conversations(ctx: Context) -> tuple[dict[str, list[StageNumbers]], str]:
    if ctx.config.options.mode == "self-chat":
        return self_chat(ctx)
    return simulate(ctx)


def conversations_written(ctx: Context, stages: list[StageNumbers]) -> float:
    """Conversations kept: at most one per opening (most are; see the stats' endings)."""
    return float(len(ctx.recipe.openings.kept))
