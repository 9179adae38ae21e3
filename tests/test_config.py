import pytest

from pipeline.errors import ConfigError
from pipeline.methods import load_config, make_config

BAD = [
    ({"target": 0}, "--target must be at least 1"),
    ({"backend": "bogus"}, "unknown backend 'bogus'"),
    ({"api": "responses"}, "unknown --api"),
    ({"model": " "}, "--model must not be empty"),
    ({"temperature": 3.0}, "--temperature must be between 0 and 2"),
    ({"top_p": 0.0}, "--top-p must be in (0, 1]"),
    ({"max_tokens": 0}, "--max-tokens must be at least 1"),
    ({"prompts_per_request": 0}, "--prompts-per-request must be at least 1"),
    ({"prompts_per_request": 5}, "needs --api completions"),
    ({"num_prompt_instructions": 20}, "--num-prompt-instructions"),
    ({"num_tasks": 120}, "--num-tasks must be at most 99"),
    ({"rouge_threshold": 1.5}, "--rouge-threshold"),
    ({"min_words": 10, "max_words": 5}, "--min-words"),
    ({"concurrency": 0}, "--concurrency must be 1 to 1024"),
    ({"max_attempts": 0}, "--max-attempts"),
    ({"timeout": 0}, "--timeout must be positive"),
    ({"max_requests": 0}, "--max-requests"),
    ({"judge": "threads"}, "--judge must be process or inline"),
    ({"stub_malformed_rate": 1.5}, "--stub-malformed-rate must be between 0 and 1"),
]


@pytest.mark.parametrize("overrides, message", BAD)
def test_bad_values_are_refused_with_the_rule(overrides, message):
    with pytest.raises(ConfigError) as err:
        make_config(out="x", **overrides)
    assert message in str(err.value)
    assert err.value.exit_code == 2


@pytest.mark.parametrize("api, expected", [("completions", 5), ("chat", 1)])
def test_prompts_per_request_follows_alpaca_on_completions(api, expected):
    assert make_config(out="x", api=api).prompts_per_request == expected


@pytest.mark.parametrize(
    "change, same",
    [
        ({"target": 999, "concurrency": 64, "out": "elsewhere", "base_url": "http://h:1/v1"}, True),
        ({"seed": 1}, False),
        ({"model": "other"}, False),
        ({"temperature": 0.5}, False),
        ({"rouge_threshold": 0.8}, False),
    ],
)
def test_fingerprint_ignores_runtime_settings_only(change, same):
    base = make_config(out="x")
    other = load_config({**base.to_dict(), **change})
    assert (base.fingerprint(seeds="s") == other.fingerprint(seeds="s")) is same


def test_stop_sequences_follow_num_tasks():
    assert make_config(out="x").options.stop == ("\n20", "20.")
    assert make_config(out="x", num_tasks=10).options.stop == ("\n10", "10.")
