"""GlueLLM plugin: a transport for every provider any-llm-sdk reaches.

OpenAI, Anthropic, xAI (through its OpenAI-compatible API), local OpenAI-compatible
servers (vLLM, llama.cpp, Ollama) and the rest of any-llm's providers. Importing this
package does not import any-llm; the first call does.
"""
