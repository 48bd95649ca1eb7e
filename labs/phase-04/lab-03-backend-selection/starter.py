# Generated from solution.py by `vmastery labs sync`: the marked regions are yours to write.
# Grade it with: LAB_IMPL=starter pytest labs/phase-04/lab-03-backend-selection
"""Lab 04-03: predict which attention backend vLLM picks, then drive the real selection code.

On NVIDIA GPUs, {anchor}`vllm/v1/attention/selector.py::get_attn_backend` asks the platform for a
backend. The CUDA platform walks a fixed priority list for the GPU generation
({anchor}`vllm/platforms/cuda.py::_get_backend_priorities`), asks each candidate class to list
why it *cannot* serve this layer ({anchor}`vllm/v1/attention/backend.py::AttentionBackend.validate_configuration`),
and keeps the first candidate with no reasons
({anchor}`vllm/platforms/cuda.py::CudaPlatformBase.get_attn_backend_cls`).

Part 1 predicts FlashAttention's reasons from its rules; part 2 writes the priority walk. The tests
compare both with vLLM 0.22.1's own code, run on this CPU with a pretend compute capability.
"""
from __future__ import annotations

from typing import Callable, Sequence


def predict_flash_attn_reasons(head_size: int, dtype: str, kv_cache_dtype: str, block_size: int | None,
                               has_sink: bool, capability: tuple[int, int], fa_version: int | None,
                               fa4_available: bool, sinks_kernel_available: bool) -> list[str]:
    """FlashAttentionBackend's invalid reasons, in the order validate_configuration appends them.

    Rules (from flash_attn.py and backend.py in 0.22.1):
    - head size: a multiple of 8, and <= 256 (<= 512 only when FlashAttention 4 is available);
    - dtype: "float16" or "bfloat16";
    - kv cache dtype: "auto", "float16", "bfloat16"; "fp8"/"fp8_e4m3" only with FA version 3 on a
      Hopper-family (9.x) GPU;
    - block size: None, or a multiple of 16;
    - sinks: need a sinks-capable kernel ("attention sinks not supported"), and separately need
      compute capability >= 9.0 (the combination rule, appended last);
    - compute capability >= 8.0.
    The exact strings: "head_size not supported", "dtype not supported", "kv_cache_dtype not supported",
    "block_size not supported", "attention sinks not supported", "compute capability not supported",
    "sink not supported on compute capability < 9.0".
    """
    reasons: list[str] = []
    # TODO: check each rule in the order of the docstring list and append its string
    raise NotImplementedError('check each rule in the order of the docstring list and append its string')
    return reasons


def select_backend(priorities: Sequence[str], validate: Callable[[str], list[str]]
                   ) -> tuple[str, dict[str, tuple[int, list[str]]]]:
    """Walk `priorities` (best first); return the first name whose `validate(name)` is empty, and the
    reasons of every rejected candidate as {name: (priority index, reasons)} (all candidates are
    validated, as vLLM does, so the log can explain every rejection). Raise ValueError if none is valid.
    """
    # TODO: validate all, remember (index, reasons) of the invalid ones, pick the lowest valid index
    raise NotImplementedError('validate all, remember (index, reasons) of the invalid ones, pick the lowest valid index')


def precluded_by_block_size(invalid: dict[str, tuple[int, list[str]]], selected_priority: int) -> list[str]:
    """Better-ranked backends rejected ONLY because of a user-chosen --block-size (vLLM warns about these)."""
    # TODO: priority < selected and reasons == ["block_size not supported"]
    raise NotImplementedError('priority < selected and reasons == ["block_size not supported"]')
