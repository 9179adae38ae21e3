"""The ROUGE-L index's tokens as characters, the most frequent ones first.

rapidfuzz looks each character of a choice up in the queries' pattern table: a flat array below
code point 256, a hash map above. Numbered by first appearance, 47% of the stub run's pool
tokens fall below 256; renumbered by their frequency in the pool, 71%, and LCS runs ~25% faster
(measured). So the index renumbers its tokens now and then as the pool grows. LCS and F compare
tokens for equality only: renumbering changes no score.
"""

from __future__ import annotations

from collections import Counter

from pipeline.errors import InstructgenError

# Renumber once RERANK_FROM candidates have joined the pool through the gate, then each time the
# pool has grown RERANK_GROWTH times through it: a pass over the pool each time (~1.6 us an
# item), paid back by the rows of the candidates that made it grow. A pool filled by extend()
# alone is left as numbered.
RERANK_FROM, RERANK_GROWTH = 512, 4
_SURROGATES = 0x800  # code points 0xD800..0xDFFF are skipped when numbering tokens
_MAX_TOKENS = 0x110000 - _SURROGATES - 1


class Vocab:
    """Each distinct token's character."""

    def __init__(self) -> None:
        self._chars: dict[str, str] = {}
        self._ranked_at = 0  # the pool size at the last renumbering
        self._gated = 0  # items that joined the pool through the gate since then

    def __len__(self) -> int:
        return len(self._chars)

    def code(self, tokens: list[str]) -> str:
        """The tokens as one string, new tokens numbered after the known ones."""
        chars = self._chars
        try:
            return "".join([chars[t] for t in tokens])
        except KeyError:
            for token in tokens:
                if token not in chars:
                    chars[token] = token_char(len(chars))
            return "".join([chars[t] for t in tokens])

    def gated(self, count: int) -> None:
        """Count items that joined the pool through the gate."""
        self._gated += count

    def due(self) -> bool:
        return self._gated >= max(RERANK_FROM, (RERANK_GROWTH - 1) * self._ranked_at)

    def rerank(self, codes: list[str]) -> dict[int, str]:
        """Renumber the tokens by their count in `codes`, most frequent first (ties keep their
        order); returns the str.translate table from the old characters to the new ones."""
        counts = Counter("".join(codes))
        ranked = sorted(self._chars.items(), key=lambda item: (-counts[item[1]], item[1]))
        table = {}
        for rank, (token, old) in enumerate(ranked):
            new = self._chars[token] = token_char(rank)
            if new != old:
                table[ord(old)] = new
        self._ranked_at, self._gated = len(codes), 0
        return table


def token_char(token_id: int) -> str:
    if token_id >= _MAX_TOKENS:
        raise InstructgenError(
            f"the ROUGE-L index holds more than {_MAX_TOKENS} distinct tokens; "
            "gate against a smaller pool"
        )
    code = token_id + 1
    return chr(code if code < 0xD800 else code + _SURROGATES)
