"""Any OpenAI-compatible endpoint: the backend, its wire format, what a model refuses."""
