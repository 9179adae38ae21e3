"""The method-agnostic core: request order, the judge, stages, the session."""
