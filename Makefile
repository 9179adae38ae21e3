PY ?= python3

.PHONY: test lint format bench demo

test:
	$(PY) -m pytest

lint:
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format:
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

bench:
	$(PY) benchmarks/rouge_gate.py --instructions $(INSTRUCTIONS)
	$(PY) benchmarks/throughput.py

demo:
	instructgen run self-instruct --backend stub --target 500 --out data/demo
