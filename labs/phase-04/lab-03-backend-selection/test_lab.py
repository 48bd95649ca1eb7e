"""Grades lab 04-03 against vLLM's real FlashAttentionBackend rules and CUDA platform selection.

`vllm/platforms/cuda.py` imports the compiled extensions `vllm._C` and `vllm._C_stable_libtorch` only
to register kernels. This CPU install has none, so the fixture puts empty stand-ins in sys.modules
just long enough to import the module, then removes them. Every function called afterwards is
vLLM's real Python.
"""
from __future__ import annotations

import itertools
import sys
import types

import pytest
import torch

DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}


@pytest.fixture(scope="module")
def cuda_platform():
    added = [n for n in ("vllm._C", "vllm._C_stable_libtorch") if n not in sys.modules]
    for n in added:
        sys.modules[n] = types.ModuleType(n)
    try:
        from vllm.platforms import cuda
    finally:
        for n in added:
            sys.modules.pop(n, None)
    return cuda


@pytest.fixture(scope="module")
def vllm_config():
    from vllm.config import DeviceConfig, VllmConfig

    return VllmConfig(device_config=DeviceConfig("cpu"))


def _selector_config(head_size, use_mla=False, block_size=None, dtype=torch.bfloat16, has_sink=False):
    from vllm.v1.attention.selector import AttentionSelectorConfig

    return AttentionSelectorConfig(head_size=head_size, dtype=dtype, kv_cache_dtype="auto",
                                   block_size=block_size, use_mla=use_mla, has_sink=has_sink)


def test_flash_attn_reasons_match_vllm(impl, vllm_config):
    from vllm.config import set_current_vllm_config
    from vllm.platforms.interface import DeviceCapability
    from vllm.v1.attention.backends.fa_utils import get_flash_attn_version, is_fa_version_supported
    from vllm.v1.attention.backends.flash_attn import FlashAttentionBackend

    fa_version, fa4 = get_flash_attn_version(), is_fa_version_supported(4)
    sinks = FlashAttentionBackend.supports_sink()
    grid = itertools.product([64, 72, 100, 128, 256, 264, 512], DTYPES, ["auto", "fp8", "bfloat16"],
                             [None, 16, 24, 32], [False, True], [(7, 5), (8, 0), (8, 9), (9, 0), (10, 0)])
    with set_current_vllm_config(vllm_config):
        for hs, dt, kvd, bs, sink, cap in grid:
            want = FlashAttentionBackend.validate_configuration(
                head_size=hs, dtype=DTYPES[dt], kv_cache_dtype=kvd, block_size=bs, use_mla=False,
                has_sink=sink, use_sparse=False, use_mm_prefix=False, use_per_head_quant_scales=False,
                device_capability=DeviceCapability(*cap), attn_type="decoder")
            got = impl.predict_flash_attn_reasons(hs, dt, kvd, bs, sink, cap, fa_version, fa4, sinks)
            assert got == want, (hs, dt, kvd, bs, sink, cap)


def _validator(cfg, capability):
    from vllm.platforms.interface import DeviceCapability
    from vllm.v1.attention.backends.registry import AttentionBackendEnum

    def validate(name: str) -> list[str]:
        try:
            cls = AttentionBackendEnum[name].get_class()
            return cls.validate_configuration(device_capability=DeviceCapability(*capability), **cfg._asdict())
        except ImportError:  # e.g. flashinfer is not installed here
            return ["ImportError"]
    return validate


CASES = [((8, 0), 128, False), ((9, 0), 128, False), ((9, 0), 96, False), ((9, 0), 512, False),
         ((10, 0), 128, False), ((7, 5), 64, False), ((8, 0), 576, True), ((9, 0), 576, True)]


@pytest.mark.parametrize("capability,head_size,use_mla", CASES)
def test_select_backend_matches_cuda_platform(impl, cuda_platform, vllm_config, capability, head_size, use_mla):
    from vllm.config import set_current_vllm_config
    from vllm.platforms.interface import DeviceCapability

    class PretendGPU(cuda_platform.CudaPlatformBase):
        @classmethod
        def get_device_capability(cls, device_id: int = 0):
            return DeviceCapability(*capability)

    cfg = _selector_config(head_size, use_mla=use_mla)
    with set_current_vllm_config(vllm_config):
        want = PretendGPU.get_attn_backend_cls(None, cfg)
        priorities = [b.name for b in cuda_platform._get_backend_priorities(
            use_mla, DeviceCapability(*capability), None, "auto")]
        got, invalid = impl.select_backend(priorities, _validator(cfg, capability))
    from vllm.v1.attention.backends.registry import AttentionBackendEnum

    assert AttentionBackendEnum[got].get_path() == want
    assert all(reasons for _, reasons in invalid.values())


def test_select_backend_raises_when_nothing_fits(impl):
    with pytest.raises(ValueError):
        impl.select_backend(["A", "B"], lambda name: ["dtype not supported"])


def test_block_size_warning(impl):
    invalid = {"FLASHINFER": (0, ["block_size not supported"]), "X": (1, ["ImportError"]),
               "Y": (3, ["block_size not supported"])}
    chosen, got_invalid = impl.select_backend(
        ["FLASHINFER", "X", "FLASH_ATTN", "Y"], lambda n: invalid.get(n, (0, []))[1])
    assert chosen == "FLASH_ATTN"
    assert impl.precluded_by_block_size(got_invalid, 2) == ["FLASHINFER"]


def test_prediction_matches_the_real_h200_run(impl):
    """The H200 run recorded in tracepoints/reference/ chose a backend: your rules must agree.

    That run (command in tracepoints/reference/command.txt) served a Llama shape with 32 heads of
    size 64 in bfloat16, block size 16, on compute capability 9.0 with FlashAttention 3 built in.
    """
    import re
    from pathlib import Path

    log = (Path(__file__).resolve().parents[3] / "tracepoints" / "reference" / "vllm.log").read_text()
    found = re.search(r"Using (\w+) attention backend out of potential backends: \[([^\]]*)\]", log)
    assert found, "the reference log no longer records the backend choice"
    chosen, candidates = found.group(1), [c.strip(" '") for c in found.group(2).split(",")]

    def validate(name: str) -> list[str]:
        if name != "FLASH_ATTN":
            return ["not FlashAttention"]  # only FlashAttention's rules are yours to predict
        return impl.predict_flash_attn_reasons(64, "bfloat16", "auto", 16, False, (9, 0), 3, False, False)

    assert impl.select_backend(candidates, validate)[0] == chosen == "FLASH_ATTN"
