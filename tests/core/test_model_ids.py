import pytest

from gluellm.errors import ConfigurationError
from gluellm.model_ids import split_model


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("openai:gpt-4o-mini", ("openai", "gpt-4o-mini")),
        ("openai/text-embedding-3-small", ("openai", "text-embedding-3-small")),
        ("ollama:llama3:8b", ("ollama", "llama3:8b")),
        ("openrouter:meta-llama/llama-3", ("openrouter", "meta-llama/llama-3")),
        ("OpenAI:gpt-4o", ("openai", "gpt-4o")),
    ],
)
def test_split_model(model, expected):
    assert split_model(model) == expected


@pytest.mark.parametrize("model", ["gpt-4o", ":gpt", "openai:", "/x"])
def test_bad_model_strings_explain_the_format(model):
    with pytest.raises(ConfigurationError, match="provider:model"):
        split_model(model)
