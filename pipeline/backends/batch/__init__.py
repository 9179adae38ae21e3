"""Batch mode: a stage's requests sent as the provider's Batch API jobs (OpenAI's wire format,
also Azure OpenAI's and other compatible providers'), at the batch price, crash-safe.

store.py (the waves and their answers, in the run's cache database), api.py (files and batches
over the openai SDK), backend.py (BatchingBackend: requests queued into waves, polled, their
answers handed back one by one, so the engine above it is the same as online)."""
