"""The spec's "Evaluation Data Recording" examples, run unchanged against the fake server.

Each example runs in a fresh interpreter, as a user would run it: the top-level
``await`` fragments inside an ``async def main()``, with a prelude defining only the
names the spec leaves undefined (``db``, ``api``) or imports in an earlier fragment.
``OPENAI_BASE_URL`` and a recognisable fake ``OPENAI_API_KEY`` point it at the fake
server; answers come back through any-llm -> openai SDK -> HTTP. After each example,
a check (not part of the example) asserts what it recorded, and that no file it wrote
contains the API key.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

from gluellm_plugins_mock.fake_server import FakeProviderServer, FakeReply

API_KEY = "sk-eval-spec-canary-7f3a9c2e1b"

PRELUDE = '''
import asyncio
import json
from pathlib import Path
from gluellm import GlueLLM
from gluellm.models.eval import EvalRecord


class _FakeDatabase:
    """Stands in for the spec's undefined `db` and `api` objects."""

    def __init__(self):
        self.rows = []
        self.closed = False

    async def save(self, data):
        self.rows.append(data)

    async def insert(self, table, data):
        self.rows.append((table, data))

    async def post(self, path, data):
        self.rows.append((path, data))

    async def close(self):
        self.closed = True


db = api = _FakeDatabase()
'''

QUICK_START = """
from gluellm import GlueLLM
from gluellm.eval import enable_file_recording

# Enable global file recording
store = enable_file_recording("./eval_data/records.jsonl")

# All GlueLLM instances will now record automatically
client = GlueLLM()
result = await client.complete("What is 2+2?")
print(f"Response: {result.final_response}")

# Clean up when done
await store.close()
"""

FILE_STORAGE = """
from gluellm import GlueLLM
from gluellm.eval import JSONLFileStore

# Create a file store
store = JSONLFileStore("./eval_data/records.jsonl")

# Use with a specific client instance
client = GlueLLM(eval_store=store)
result = await client.complete("Explain quantum computing")

# Records are written asynchronously
await store.close()
"""

CUSTOM_CALLBACKS = '''
from gluellm import GlueLLM
from gluellm.eval import CallbackStore, enable_callback_recording
from gluellm.models.eval import EvalRecord

# Define your custom storage handler
async def save_to_database(record: EvalRecord):
    """Save record to your database."""
    # Your storage logic here
    await db.save(record.model_dump_dict())

# Enable callback recording globally
enable_callback_recording(save_to_database)

# Or use with a specific instance
store = CallbackStore(save_to_database)
client = GlueLLM(eval_store=store)
'''

SYNC_ASYNC_CALLBACKS = """
# Synchronous callback
def sync_handler(record: EvalRecord):
    print(f"Recorded: {record.id}")

# Asynchronous callback
async def async_handler(record: EvalRecord):
    await api.post("/records", record.model_dump_dict())
"""

MULTI_STORE = """
from gluellm import GlueLLM
from gluellm.eval import JSONLFileStore, CallbackStore, MultiStore

# In-memory storage for real-time analysis
memory_records = []

async def save_to_memory(record: EvalRecord):
    memory_records.append(record)

# Create multi-store that writes to both file and memory
multi_store = MultiStore([
    JSONLFileStore("./eval_data/records.jsonl"),
    CallbackStore(save_to_memory),
])

client = GlueLLM(eval_store=multi_store)
result = await client.complete("What is Python?")

# Records are written to both stores concurrently
await multi_store.close()
"""

CONFIGURATION = """
from gluellm.config import settings

# Check if recording is enabled
if settings.eval_recording_enabled:
    print("Recording is enabled")

# Get default recording path
print(settings.eval_recording_path)
"""

DATA_MODEL = """
from gluellm.models.eval import EvalRecord

# EvalRecord fields:
# - id: Unique identifier (UUID)
# - correlation_id: Request tracking ID
# - timestamp: When the request was made
# - user_message: User's input message
# - system_prompt: System prompt used
# - model: Model identifier (e.g., "openai:gpt-4o-mini")
# - messages_snapshot: Full conversation state
# - final_response: Final text response
# - structured_output: Serialized structured output (if applicable)
# - raw_response: Raw API response
# - tool_calls_made: Number of tool calls executed
# - tool_execution_history: Complete tool call history
# - tools_available: List of available tool names
# - latency_ms: Total request latency
# - tokens_used: Token usage dict (prompt, completion, total)
# - estimated_cost_usd: Estimated cost in USD
# - success: Whether request succeeded
# - error_type: Error type if failed
# - error_message: Error message if failed
"""

CONDITIONAL_STORE = '''
class ConditionalStore:
    """Only record expensive requests."""

    def __init__(self, base_store: JSONLFileStore):
        self.base_store = base_store

    async def record(self, record: EvalRecord) -> None:
        # Only record if cost > $0.001
        if record.estimated_cost_usd and record.estimated_cost_usd > 0.001:
            await self.base_store.record(record)

    async def close(self) -> None:
        await self.base_store.close()

store = ConditionalStore(JSONLFileStore("./expensive_records.jsonl"))
client = GlueLLM(eval_store=store)
'''

READING = """
import json
from pathlib import Path

records = []
with Path("./eval_data/records.jsonl").open() as f:
    for line in f:
        if line.strip():
            records.append(json.loads(line))

# Analyze your data
total_cost = sum(r.get("estimated_cost_usd", 0) for r in records)
avg_latency = sum(r["latency_ms"] for r in records) / len(records)
print(f"Total cost: ${total_cost:.4f}")
print(f"Average latency: {avg_latency:.2f}ms")
"""

INSTANCE_VS_GLOBAL = """
from gluellm.eval import enable_file_recording, JSONLFileStore

# Global store - all clients record to it
enable_file_recording("./global_records.jsonl")
client1 = GlueLLM()  # Records to global store
client2 = GlueLLM()  # Records to global store

# Instance-level store - only this client records to it
instance_store = JSONLFileStore("./instance_records.jsonl")
client3 = GlueLLM(eval_store=instance_store)  # Records to instance store only
"""

STRUCTURED = """
from pydantic import BaseModel
from gluellm import structured_complete
from gluellm.eval import JSONLFileStore, enable_file_recording

class Answer(BaseModel):
    number: int
    reasoning: str

# Enable recording
enable_file_recording("./structured_records.jsonl")

# Structured outputs are recorded automatically
result = await structured_complete(
    "What is 2+2? Provide your reasoning.",
    response_format=Answer,
)
# Record includes structured_output field with serialized Answer
"""

TOOLS = '''
from gluellm import GlueLLM
from gluellm.eval import JSONLFileStore

def get_weather(city: str) -> str:
    """Get weather for a city."""
    return f"Sunny in {city}, 72°F"

store = JSONLFileStore("./tool_records.jsonl")
client = GlueLLM(
    tools=[get_weather],
    eval_store=store,
)

result = await client.complete("What's the weather in Paris?")
# Record includes:
# - tool_calls_made: 1
# - tool_execution_history: [{"tool": "get_weather", "args": {...}, "result": "..."}]
# - tools_available: ["get_weather"]
'''

ERRORS = """
from gluellm import GlueLLM
from gluellm.eval import JSONLFileStore

store = JSONLFileStore("./error_records.jsonl")
client = GlueLLM(eval_store=store)

try:
    await client.complete("Hello", model="invalid:model-name")
except Exception:
    pass  # Error is automatically recorded with error_type and error_message
"""

CUSTOM_STORE = '''
from gluellm.eval import EvalStore
from gluellm.models.eval import EvalRecord

class DatabaseStore:
    """Custom store that saves to a database."""

    async def record(self, record: EvalRecord) -> None:
        # Your database save logic
        await db.insert("eval_records", record.model_dump_dict())

    async def close(self) -> None:
        # Cleanup if needed
        await db.close()

# Use your custom store
client = GlueLLM(eval_store=DatabaseStore())
'''


def program(example: str, check: str = "") -> str:
    body = textwrap.indent(textwrap.dedent(example), "    ")
    after = textwrap.indent(textwrap.dedent(check), "    ")
    return (
        f"{PRELUDE}\nasync def main():\n{body}\n{after}\n    print('done')\n\nasyncio.run(main())\n"
    )


def run_example(code: str, cwd: Path, **env: str) -> str:
    finished = run_example_raw(code, cwd, **env)
    assert finished.returncode == 0, finished.stderr
    assert "Unclosed" not in finished.stderr, finished.stderr
    for path in cwd.rglob("*"):
        if path.is_file():
            assert API_KEY not in path.read_text(errors="replace"), path
    return finished.stdout


def run_example_raw(code: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GLUELLM_", "OPENAI_", "ANTHROPIC_"))
    }
    environment["GLUELLM_LOAD_PLUGINS"] = "anyllm,eval"
    environment["OPENAI_BASE_URL"] = os.environ["OPENAI_BASE_URL"]
    environment["OPENAI_API_KEY"] = API_KEY
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
        timeout=120,
    )


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_quick_start(fake_provider_env: FakeProviderServer, tmp_path: Path):
    fake_provider_env.enqueue(FakeReply.text("4", usage=(12, 1)))
    out = run_example(program(QUICK_START), tmp_path)
    assert out == "Response: 4\ndone\n"
    (record,) = lines(tmp_path / "eval_data" / "records.jsonl")
    assert record["user_message"] == "What is 2+2?"
    assert record["final_response"] == "4"
    assert record["tokens_used"] == {"prompt": 12, "completion": 1, "total": 13}
    assert record["success"] is True
    assert record["model"] == "openai:gpt-4o-mini"


def test_built_in_file_storage(fake_provider_env: FakeProviderServer, tmp_path: Path):
    fake_provider_env.enqueue(FakeReply.text("Qubits."))
    run_example(program(FILE_STORAGE), tmp_path)
    (record,) = lines(tmp_path / "eval_data" / "records.jsonl")
    assert record["user_message"] == "Explain quantum computing"
    assert record["final_response"] == "Qubits."
    assert record["latency_ms"] > 0


def test_custom_callbacks(fake_provider_env: FakeProviderServer, tmp_path: Path):
    check = """
    await client.complete("instance")
    await store.close()
    await GlueLLM().complete("global")
    from gluellm.eval import get_global_eval_store
    await get_global_eval_store().close()
    print([row["user_message"] for row in db.rows])
    """
    out = run_example(program(CUSTOM_CALLBACKS, check), tmp_path)
    assert out == "['instance', 'global']\ndone\n"
    assert len(fake_provider_env.chat_requests) == 2


def test_sync_and_async_callbacks(fake_provider_env: FakeProviderServer, tmp_path: Path):
    check = """
    from gluellm.eval import CallbackStore
    sync_store, async_store = CallbackStore(sync_handler), CallbackStore(async_handler)
    await GlueLLM(eval_store=sync_store).complete("one")
    await GlueLLM(eval_store=async_store).complete("two")
    await sync_store.close()
    await async_store.close()
    print([(path, data["user_message"]) for path, data in api.rows])
    """
    out = run_example(program(SYNC_ASYNC_CALLBACKS, check), tmp_path)
    first, second, last = out.splitlines()
    assert first.startswith("Recorded: ")
    assert len(first) == len("Recorded: ") + 36
    assert second == "[('/records', 'two')]"
    assert last == "done"


def test_multi_store(fake_provider_env: FakeProviderServer, tmp_path: Path):
    check = "print([r.user_message for r in memory_records])"
    out = run_example(program(MULTI_STORE, check), tmp_path)
    assert out == "['What is Python?']\ndone\n"
    (record,) = lines(tmp_path / "eval_data" / "records.jsonl")
    assert record["user_message"] == "What is Python?"


def test_configuration_by_environment(fake_provider_env: FakeProviderServer, tmp_path: Path):
    check = """
    await GlueLLM().complete("recorded without code")
    from gluellm_plugins_eval import flush_recording
    await flush_recording()
    """
    out = run_example(
        program(CONFIGURATION, check),
        tmp_path,
        GLUELLM_EVAL_RECORDING_ENABLED="true",
        GLUELLM_EVAL_RECORDING_PATH="logs/eval_records.jsonl",
    )
    assert out == "Recording is enabled\nlogs/eval_records.jsonl\ndone\n"
    (record,) = lines(tmp_path / "logs" / "eval_records.jsonl")
    assert record["user_message"] == "recorded without code"


def test_configuration_flushes_at_exit_without_warning(
    fake_provider_env: FakeProviderServer, tmp_path: Path
):
    # Nobody can close the store the settings build: exit writes what is left, quietly.
    check = """
    await asyncio.gather(*(GlueLLM().complete(f"q{i}") for i in range(20)))
    """
    finished = run_example_raw(
        program(CONFIGURATION, check),
        tmp_path,
        GLUELLM_EVAL_RECORDING_ENABLED="true",
        GLUELLM_EVAL_RECORDING_PATH="logs/eval_records.jsonl",
    )
    assert "EvalStoreNotClosedWarning" not in finished.stderr
    assert len(lines(tmp_path / "logs" / "eval_records.jsonl")) == 20


def test_configuration_off_by_default(fake_provider_env: FakeProviderServer, tmp_path: Path):
    out = run_example(program(CONFIGURATION, 'await GlueLLM().complete("x")'), tmp_path)
    assert out == "logs/eval_records.jsonl\ndone\n"
    assert not (tmp_path / "logs").exists()


def test_data_model(fake_provider_env: FakeProviderServer, tmp_path: Path):
    check = """
    fields = list(EvalRecord.model_fields)
    print(fields[:19])
    """
    out = run_example(program(DATA_MODEL, check), tmp_path)
    # The fields the example's comment lists, in its order, are the record's first ones.
    spec_fields = re.findall(r"^# - (\w+):", DATA_MODEL, re.MULTILINE)
    assert len(spec_fields) == 19
    assert out == f"{spec_fields}\ndone\n"


def test_conditional_store(fake_provider_env: FakeProviderServer, tmp_path: Path):
    fake_provider_env.enqueue(
        FakeReply.text("cheap", usage=(10, 10)), FakeReply.text("expensive", usage=(5000, 1000))
    )
    prelude = "from gluellm.eval import JSONLFileStore\n"
    check = """
    await client.complete("cheap question")
    await client.complete("expensive question")
    from gluellm_plugins_eval import flush_recording
    await flush_recording()
    await store.close()
    """
    run_example(
        program(prelude + CONDITIONAL_STORE, check),
        tmp_path,
        GLUELLM_MODEL_PRICES='{"openai:gpt-4o-mini": {"input": 0.15, "output": 0.6}}',
    )
    (record,) = lines(tmp_path / "expensive_records.jsonl")
    assert record["user_message"] == "expensive question"
    assert record["estimated_cost_usd"] == (5000 * 0.15 + 1000 * 0.6) / 1e6


def test_reading_recorded_data(fake_provider_env: FakeProviderServer, tmp_path: Path):
    fake_provider_env.enqueue(FakeReply.text("4", usage=(1000, 1000)))
    run_example(
        program(QUICK_START),
        tmp_path,
        GLUELLM_MODEL_PRICES='{"openai:gpt-4o-mini": {"input": 1.0, "output": 2.0}}',
    )
    fake_provider_env.enqueue(FakeReply.text("5"))
    run_example(program(FILE_STORAGE), tmp_path)  # price unknown: no cost in the record
    out = run_example(program(READING), tmp_path)
    total, average, done = out.splitlines()
    assert total == "Total cost: $0.0030"
    assert average.startswith("Average latency: ")
    assert average.endswith("ms")
    assert done == "done"


def test_instance_level_vs_global(fake_provider_env: FakeProviderServer, tmp_path: Path):
    check = """
    await client1.complete("one")
    await client2.complete("two")
    await client3.complete("three")
    from gluellm.eval import get_global_eval_store
    await get_global_eval_store().close()
    await instance_store.close()
    """
    run_example(program(INSTANCE_VS_GLOBAL, check), tmp_path)
    assert [r["user_message"] for r in lines(tmp_path / "global_records.jsonl")] == ["one", "two"]
    assert [r["user_message"] for r in lines(tmp_path / "instance_records.jsonl")] == ["three"]


def test_recording_structured_outputs(fake_provider_env: FakeProviderServer, tmp_path: Path):
    fake_provider_env.enqueue(FakeReply.json({"number": 4, "reasoning": "2 plus 2"}))
    check = """
    print(result.number)
    from gluellm.eval import get_global_eval_store
    await get_global_eval_store().close()
    """
    out = run_example(program(STRUCTURED, check), tmp_path)
    assert out == "4\ndone\n"
    (record,) = lines(tmp_path / "structured_records.jsonl")
    assert record["structured_output"] == {"number": 4, "reasoning": "2 plus 2"}
    assert record["operation"] == "structured_complete"


def test_recording_tool_execution(fake_provider_env: FakeProviderServer, tmp_path: Path):
    fake_provider_env.enqueue(
        FakeReply.tool_calls(("get_weather", {"city": "Paris"})), FakeReply.text("Sunny.")
    )
    run_example(program(TOOLS, "await store.close()"), tmp_path)
    (record,) = lines(tmp_path / "tool_records.jsonl")
    assert record["tool_calls_made"] == 1
    assert record["tools_available"] == ["get_weather"]
    (entry,) = record["tool_execution_history"]
    assert entry["tool_name"] == "get_weather"
    assert entry["arguments"] == {"city": "Paris"}
    assert entry["result"] == "Sunny in Paris, 72°F"
    assert record["model_calls"] == 2


def test_error_recording(fake_provider_env: FakeProviderServer, tmp_path: Path):
    run_example(program(ERRORS, "await store.close()"), tmp_path)
    (record,) = lines(tmp_path / "error_records.jsonl")
    assert record["success"] is False
    assert record["error_type"] == "ConfigurationError"
    assert "invalid" in record["error_message"]
    assert fake_provider_env.chat_requests == []


def test_creating_custom_stores(fake_provider_env: FakeProviderServer, tmp_path: Path):
    check = """
    await client.complete("to my database")
    from gluellm.eval import flush_recording
    await flush_recording()
    print([(table, data["user_message"]) for table, data in db.rows])
    print(isinstance(DatabaseStore(), EvalStore))
    """
    out = run_example(program(CUSTOM_STORE, check), tmp_path)
    assert out == "[('eval_records', 'to my database')]\nTrue\ndone\n"
