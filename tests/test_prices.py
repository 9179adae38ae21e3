"""pipeline/prices.py: the dated table, snapshots priced as their alias, local servers free,
overrides and prices files."""

from __future__ import annotations

import pytest

from pipeline.errors import InputError
from pipeline.methods import make_config
from pipeline.prices import PRICES_AS_OF, Price, load_prices_file, price_for

OPENAI = {"backend": "openai"}
LISTED = f"OpenAI list price as of {PRICES_AS_OF}"


@pytest.mark.parametrize(
    "model, options, expected",
    [
        ("gpt-4o-mini", OPENAI, (0.15, 0.60, LISTED)),
        ("gpt-4o-mini-2024-07-18", OPENAI, (0.15, 0.60, LISTED)),
        ("gpt-4o-2024-08-06", OPENAI, (2.50, 10.00, LISTED)),
        ("gpt-4.1-nano-2025-04-14", OPENAI, (0.10, 0.40, LISTED)),
        ("o3-mini-2025-01-31", OPENAI, (1.10, 4.40, LISTED)),
        ("gpt-3.5-turbo-0125", OPENAI, (0.50, 1.50, LISTED)),
        ("davinci-002", OPENAI, (2.00, 2.00, LISTED)),
        ("gpt-4o-mini", {**OPENAI, "base_url": "https://api.openai.com/v1"}, (0.15, 0.60, LISTED)),
        ("gpt-4o-mini", {**OPENAI, "base_url": "http://localhost:8000/v1"}, (0, 0, "local")),
        ("llama3", {**OPENAI, "base_url": "http://127.0.0.1:11434/v1"}, (0, 0, "local")),
        ("stub", {"backend": "stub"}, (0, 0, "local")),
        ("my-fine-tune", OPENAI, (0, 0, "unknown model 'my-fine-tune'")),
        ("gpt-4o-mini", {**OPENAI, "price_in": 1.0, "price_out": 3.0}, (1, 3, "--price-in")),
        ("gpt-4o-mini", {**OPENAI, "price_in": 1.0}, (1, 0, "--price-in")),
        ("stub", {"price_out": 2.0}, (0, 2, "--price-in/--price-out")),
    ],
)
def test_price_for(tmp_path, model, options, expected):
    price = price_for(make_config(out=str(tmp_path), model=model, **options))
    assert (price.input, price.output) == pytest.approx(expected[:2])
    assert price.source.startswith(expected[2])


@pytest.mark.parametrize(
    "model, expected",
    [
        ("mine", (1.0, 4.0)),  # from the file
        ("gpt-4o-mini", (0.15, 0.60)),  # not in the file: the table
        ("other", (0.0, 0.0)),  # in neither: unknown
    ],
)
def test_prices_file_names_models_the_table_does_not(tmp_path, model, expected):
    path = tmp_path / "prices.json"
    path.write_text('{"mine": [1, 4], "free": [0, 0.0]}')
    price = price_for(make_config(out=str(tmp_path), backend="openai", model=model,
                                prices_file=str(path)))  # fmt: skip
    assert (price.input, price.output) == expected
    assert load_prices_file(path) == {"mine": (1.0, 4.0), "free": (0.0, 0.0)}


@pytest.mark.parametrize(
    "text, problem",
    [
        (None, "no such file"),
        ("{not json", "not valid JSON"),
        ("[]", "expected a JSON object"),
        ('{"m": [1]}', "price of 'm' is not [input, output]"),
        ('{"m": [1, -2]}', "price of 'm' is not [input, output]"),
        ('{"m": ["1", 2]}', "price of 'm' is not [input, output]"),
        ('{"m": {"in": 1, "out": 2}}', "price of 'm' is not [input, output]"),
    ],
)
def test_a_bad_prices_file_is_an_input_error_naming_the_fix(tmp_path, text, problem):
    path = tmp_path / "prices.json"
    if text is not None:
        path.write_text(text)
    with pytest.raises(InputError) as raised:
        load_prices_file(path)
    message = str(raised.value)
    assert str(path) in message and problem in message and "\n" not in message


@pytest.mark.parametrize(
    "price, prompt, completion, usd",
    [
        (Price(0.15, 0.60, "t"), 1_000_000, 1_000_000, 0.75),
        (Price(0.15, 0.60, "t"), 470, 1085, 0.0007215),
        (Price(0.0, 0.0, "t"), 10**9, 10**9, 0.0),
    ],
)
def test_cost(price, prompt, completion, usd):
    assert price.cost(prompt, completion) == pytest.approx(usd)
    assert price.free == (usd == 0)
