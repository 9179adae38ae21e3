"""The offline stub model: its text machinery, task families and HTTP server."""
