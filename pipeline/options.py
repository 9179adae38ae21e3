"""A method's own options: a frozen dataclass of fields, each with its help text and its part
in the run's fingerprint.

The fingerprint (pipeline/config.py) decides whether a run directory may be resumed with a
config. A field is in it only while it differs from its default, so adding a field to a method
keeps every run directory made before it resuming; the fields of the first flat config are in
it always (`always=True`), as they were then."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

Rule = tuple[bool, str]


def option(
    default: Any,
    help: str,
    *,
    flag: str | None = None,
    path: bool = False,
    exists: bool = True,
    always: bool = False,
) -> Any:
    """A dataclass field of a method's options.

    `flag` is its command-line name when not --field-name; `path` marks a file or folder (made
    absolute for a schedule, templated by {date} and the like) that a schedule checks exists,
    unless `exists=False` (an input an earlier scheduled run makes); `always` puts it in the
    fingerprint even at its default (the first config's fields; a new field leaves it False)."""
    meta = {"help": help, "flag": flag, "path": path, "exists": exists, "always": always}
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Sampling:
    """A method's request defaults, used where the user gave none."""

    temperature: float
    top_p: float
    max_tokens: int


@dataclass(frozen=True)
class MethodOptions:
    """Base of every method's options. Subclasses add fields made with `option()` and may add
    `rules()` and `check()`; the RunConfig holding them runs both when it is built, among its
    own rules (so the first error a user sees is the first of one list, as before the split)."""

    # The request defaults of the method (the user's --temperature etc. win over them).
    SAMPLING: ClassVar[Sampling] = Sampling(1.0, 1.0, 2048)
    # Settings the first flat config fingerprinted for every method, although this one never
    # read them: kept as constants so that its run directories made then still resume.
    LEGACY_IDENTITY: ClassVar[dict[str, Any]] = {}
    # A method whose work is scoring its input (pipeline/score/): the judge is the run's model.
    SCORES: ClassVar[bool] = False

    def rules(self) -> list[Rule]:
        """(holds, message) pairs; the first that fails is the error."""
        return []

    def check(self) -> None:
        """Checks that raise their own ConfigError (a format name, a mapping), after rules()."""

    @classmethod
    def specs(cls) -> Iterator[dataclasses.Field]:
        """The fields, the class's own first and those it inherits after them."""
        own = inspect.get_annotations(cls)
        every = dataclasses.fields(cls)
        yield from (f for f in every if f.name in own)
        yield from (f for f in every if f.name not in own)

    @classmethod
    def flag(cls, name: str) -> str:
        """A field's command-line name, e.g. --from for source."""
        f = next(f for f in dataclasses.fields(cls) if f.name == name)
        return f.metadata.get("flag") or "--" + name.replace("_", "-")

    @classmethod
    def paths(cls, existing: bool = False) -> tuple[str, ...]:
        """The fields that name files or folders (`existing`: those that must exist already)."""
        fields = [f for f in dataclasses.fields(cls) if f.metadata.get("path")]
        return tuple(f.name for f in fields if f.metadata.get("exists") or not existing)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def identity(self) -> dict[str, Any]:
        """This method's part of the fingerprint (see the module docstring)."""
        out = dict(self.LEGACY_IDENTITY)
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.metadata.get("always") or value != f.default:
                out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> MethodOptions:
        """The options among `values` (a flat config: other keys are not this method's)."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})
