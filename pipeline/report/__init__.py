"""The HTML run report: built from a run directory's files, self-contained, offline (build.py).

A method adds its own parts through its MethodReport (hooks.py)."""
