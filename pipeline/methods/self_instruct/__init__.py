"""Self-Instruct as Stanford Alpaca ran it."""
