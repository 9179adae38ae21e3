"""Prompt templates are data files in prompts/, rendered only when every variable is supplied."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from string import Template

from pipeline.errors import ConfigError
from pipeline.resources import data_file


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    text: str

    @property
    def variables(self) -> set[str]:
        return set(Template(self.text).get_identifiers())

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:16]

    def render(self, **values: object) -> str:
        """Fill every $variable; a missing or unknown one is an error, never a silent blank."""
        missing = self.variables - values.keys()
        extra = values.keys() - self.variables
        if missing or extra:
            raise ConfigError(
                f"prompt template {self.name!r}: missing {sorted(missing)}, unexpected "
                f"{sorted(extra)}; fix prompts/{self.name}.txt or the values passed to it"
            )
        return Template(self.text).substitute({k: str(v) for k, v in values.items()})


@cache
def load_template(name: str) -> PromptTemplate:
    """Read prompts/<name>.txt from the checkout or the installed package."""
    path = data_file("prompts", f"{name}.txt")
    return PromptTemplate(name=name, text=path.read_text(encoding="utf-8"))
