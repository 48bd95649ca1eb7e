"""Model definitions (only Llama). Upstream: {anchor}`vllm/model_executor/models/llama.py::LlamaForCausalLM`."""

from mini_vllm.model.llama import LlamaForCausalLM

__all__ = ["LlamaForCausalLM"]
