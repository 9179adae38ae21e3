"""Each method's Prefect flow, by method name, imported only when asked for."""

from __future__ import annotations

from importlib import import_module
from typing import Any

FLOWS = {
    "self-instruct": ("flows.self_instruct", "self_instruct_flow"),
    "unnatural": ("flows.unnatural", "unnatural_flow"),
    "evol-instruct": ("flows.evol", "evol_instruct_flow"),
}


def flow_for(method: str) -> Any:
    module, name = FLOWS[method]
    return getattr(import_module(module), name)
