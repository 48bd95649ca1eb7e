"""mini_vllm: a small, readable CPU inference engine with vLLM's architecture and names.

Upstream: {anchor}`vllm/entrypoints/llm.py::LLM` (the public entry point this package mirrors).
See README.md in this folder for the map from each file to its vLLM counterpart.
"""

from mini_vllm.config import EngineConfig, ModelConfig
from mini_vllm.engine import LLMEngine
from mini_vllm.llm import LLM
from mini_vllm.lora import LoRARequest
from mini_vllm.outputs import CompletionOutput, RequestOutput
from mini_vllm.request import Request, RequestStatus
from mini_vllm.sampling_params import SamplingParams, StructuredOutputsParams

__all__ = ["LLM", "CompletionOutput", "EngineConfig", "LLMEngine", "LoRARequest", "ModelConfig",
           "Request", "RequestOutput", "RequestStatus", "SamplingParams", "StructuredOutputsParams"]
