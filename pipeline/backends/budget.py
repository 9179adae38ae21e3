"""Spend: what a run has paid, and a cap it never passes.

Before a request is sent, its worst case is reserved: its prompt tokens (counted with a margin,
as our count is an approximation) plus max_tokens for every prompt, at the model's price. A
request whose reservation would take spend plus reservations past --max-cost is not sent, and
from then on nothing is: the run stops, lets what is in flight land in the cache, and says how
to go on. When an answer arrives its reservation is replaced by what it really cost."""

from __future__ import annotations

from collections.abc import Callable

from pipeline.backends.base import Backend
from pipeline.errors import InstructgenError
from pipeline.prices import Price
from pipeline.tokens import count_tokens
from pipeline.types import Completion, Request

# Our token count is within 16% of cl100k for 90% of texts: reserve well above it, plus the few
# tokens a chat API adds per message.
PROMPT_MARGIN, MESSAGE_OVERHEAD = 1.5, 16


class BudgetReached(InstructgenError):
    """The next request could pass --max-cost: nothing more is sent."""

    exit_code = 4

    def __init__(self, cap: float, spent: float):
        self.cap, self.spent = cap, spent
        super().__init__(
            f"spend reached the --max-cost of ${cap:.4f} (${spent:.4f} spent, answers in the "
            "cache); re-run the same command with a higher --max-cost to go on"
        )


class Budget:
    """Spend so far (this run directory, all sessions) and reservations of requests in flight."""

    def __init__(self, price_of: Callable[[str], Price], cap: float | None, spent: float = 0.0):
        self.price_of, self.cap = price_of, cap
        self.spent, self.spent_before = spent, spent
        self.reserved = 0.0
        self.closed = False

    def worst_case(self, request: Request) -> float:
        price = self.price_of(request.model)
        system = sum(map(count_tokens, request.preamble()))
        prompt = sum(count_tokens(p) + system for p in request.prompts)
        messages = len(request.prompts) * (1 + len(request.history))
        prompt_tokens = PROMPT_MARGIN * prompt + MESSAGE_OVERHEAD * messages
        return price.cost(round(prompt_tokens), request.max_tokens * len(request.prompts))

    def reserve(self, request: Request) -> float:
        """Reserve the request's worst case, or raise BudgetReached (and stay closed)."""
        cost = self.worst_case(request)
        if self.cap is not None and (self.closed or self.spent + self.reserved + cost > self.cap):
            self.closed = True
            raise BudgetReached(self.cap, self.spent)
        self.reserved += cost
        return cost

    def settle(self, reservation: float, request: Request, completion: Completion) -> None:
        self.reserved -= reservation
        usage = completion.usage
        self.spent += self.price_of(request.model).cost(
            usage.prompt_tokens, usage.completion_tokens
        )

    def settle_earlier(self, request: Request, completion: Completion) -> None:
        """An answer paid for by an earlier session (lost at its kill, recovered now)."""
        usage = completion.usage
        cost = self.price_of(request.model).cost(usage.prompt_tokens, usage.completion_tokens)
        self.spent += cost
        self.spent_before += cost

    def release(self, reservation: float) -> None:
        self.reserved -= reservation


class BudgetedBackend:
    """Reserves before each paid call and settles after it; cache hits never reach it."""

    def __init__(self, inner: Backend, budget: Budget):
        self.inner, self.budget = inner, budget

    async def complete(self, request: Request) -> Completion:
        reservation = self.budget.reserve(request)
        try:
            completion = await self.inner.complete(request)
        except BaseException:
            self.budget.release(reservation)
            raise
        self.budget.settle(reservation, request, completion)
        return completion
