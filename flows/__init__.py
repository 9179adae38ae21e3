"""Prefect flows: thin wrappers over the library in pipeline/.

Prefect reads its settings when first imported, so quiet, offline-friendly defaults are set
here, before any flow module imports it; a user's own settings still win."""

import os

for _key, _value in {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    # A fresh temporary server on two busy cores can take longer than Prefect's 20 s default.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}.items():
    os.environ.setdefault(_key, _value)
