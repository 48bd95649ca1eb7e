# Generated from solution.py by `vmastery labs sync`: the marked regions are yours to write.
# Grade it with: LAB_IMPL=starter pytest labs/phase-01/lab-03-real-engine-fake-executor
"""Lab 03 — drive the REAL vLLM engine on a CPU by replacing the GPU with a fake executor.

Everything above the executor is vLLM 0.22.1's own code: {anchor}`vllm/v1/engine/llm_engine.py::LLMEngine`,
its {anchor}`vllm/v1/engine/input_processor.py::InputProcessor`, the in-process client
{anchor}`vllm/v1/engine/core_client.py::InprocClient`, {anchor}`vllm/v1/engine/core.py::EngineCore.step`,
the real v1 Scheduler and KV-cache manager, the {anchor}`vllm/v1/engine/output_processor.py::OutputProcessor`
and the incremental detokenizer. Only the worker is yours: it must honour the same contract as
{anchor}`vllm/v1/worker/gpu_model_runner.py::GPUModelRunner.execute_model` /
{anchor}`vllm/v1/worker/gpu_model_runner.py::GPUModelRunner.sample_tokens`:

* `execute_model(scheduler_output)` applies the step's *diff* to the worker's own request table and
  returns `None` (sampling is deferred);
* `sample_tokens(grammar_output)` returns a {anchor}`vllm/v1/outputs.py::ModelRunnerOutput` with one
  list of new token ids per scheduled request — empty while that request's prompt is still being
  prefilled in chunks.

The "model" is a script: after any prompt it emits the tokens of SCRIPT_TEXT, then EOS.
"""
import os
import tempfile
from concurrent.futures import Future
from pathlib import Path

os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")  # EngineCore in this process

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, PreTrainedTokenizerFast

from vllm import SamplingParams
from vllm.config import CacheConfig, DeviceConfig, ModelConfig, ParallelConfig, SchedulerConfig, VllmConfig
from vllm.inputs.engine import tokens_input
from vllm.outputs import RequestOutput
from vllm.sampling_params import RequestOutputKind
from vllm.v1.core.sched.output import SchedulerOutput
from vllm.v1.engine.llm_engine import LLMEngine
from vllm.v1.executor.abstract import Executor
from vllm.v1.kv_cache_interface import FullAttentionSpec
from vllm.v1.outputs import ModelRunnerOutput
from vllm.v1.worker.worker_base import CompilationTimes

SCRIPT_TEXT = " Paris is the capital. Rome is next!"
CORPUS = ["The capital of France is Paris.", "Rome is the capital of Italy!", "What is next? Tell me.",
          "the quick brown fox jumps over the lazy dog", "is the capital next"] * 40
NUM_LAYERS, BLOCK_SIZE, NUM_BLOCKS = 2, 16, 64


def make_model_dir(path: Path) -> Path:
    """A Llama-shaped config.json and a locally trained byte-level BPE tokenizer: no download."""
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(CORPUS, trainers.BpeTrainer(
        vocab_size=400, special_tokens=["<unk>", "<s>", "</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>",
                            unk_token="<unk>").save_pretrained(path)
    LlamaConfig(vocab_size=tok.get_vocab_size(), hidden_size=64, intermediate_size=128,
                num_hidden_layers=NUM_LAYERS, num_attention_heads=4, num_key_value_heads=2,
                max_position_embeddings=512, bos_token_id=1, eos_token_id=2).save_pretrained(path)
    return path


class FakeWorker:
    """Stands where vllm.v1.worker.gpu_worker.Worker + GPUModelRunner stand, without a model."""

    def __init__(self, vllm_config: VllmConfig):
        tokenizer = PreTrainedTokenizerFast.from_pretrained(vllm_config.model_config.tokenizer)
        self.script = tokenizer.encode(SCRIPT_TEXT, add_special_tokens=False) + [tokenizer.eos_token_id]
        # req_id -> {"prompt_len": int, "num_computed": int, "num_output": int}
        self.requests: dict[str, dict[str, int]] = {}
        self.pending: SchedulerOutput | None = None
        self.step_log: list[dict[str, int]] = []   # num_scheduled_tokens of every step, for tests

    # --- start-up calls made by EngineCore._initialize_kv_caches and friends
    def get_kv_cache_spec(self):
        return {f"model.layers.{i}.self_attn.attn": FullAttentionSpec(
            block_size=BLOCK_SIZE, num_kv_heads=2, head_size=16, dtype=torch.float16) for i in range(NUM_LAYERS)}

    def determine_available_memory(self) -> int:
        page = BLOCK_SIZE * 2 * 16 * 2 * 2            # tokens x kv_heads x head_size x (K,V) x fp16 bytes
        return NUM_BLOCKS * page * NUM_LAYERS

    def initialize_from_config(self, kv_cache_config) -> None:
        self.kv_cache_config = kv_cache_config

    def compile_or_warm_up_model(self) -> CompilationTimes:
        return CompilationTimes(0.0, 0.0)

    def get_supported_tasks(self):
        return ("generate",)

    def reset_mm_cache(self) -> None:
        pass

    def shutdown(self) -> None:
        pass

    # --- the per-step contract
    def execute_model(self, scheduler_output: SchedulerOutput) -> None:
        """Apply the step's diff, remember the output for sample_tokens, return None.

        Diff = `finished_req_ids` (forget them), `scheduled_new_reqs` (NewRequestData: req_id,
        prompt_token_ids, num_computed_tokens — may be > 0 after a prefix-cache hit) and
        `scheduled_cached_reqs` (CachedRequestData: parallel lists `req_ids`, `num_computed_tokens`).
        """
        self.step_log.append(dict(scheduler_output.num_scheduled_tokens))
        # TODO: drop finished ids, add new requests, refresh num_computed for cached ones, stash
        raise NotImplementedError('drop finished ids, add new requests, refresh num_computed for cached ones, stash')

    def sample_tokens(self, grammar_output) -> ModelRunnerOutput:
        """Build the ModelRunnerOutput for the stashed step.

        For every scheduled request (in `num_scheduled_tokens` order): advance its computed count by
        its scheduled tokens; if that now covers prompt + outputs so far, emit the next script token
        (`self.script[num_output]`, clamped to the last entry) and count it; otherwise emit [].
        """
        # TODO: one list per scheduled request: [next script token] or [] while prefilling
        raise NotImplementedError('one list per scheduled request: [next script token] or [] while prefilling')


def _done(value) -> Future:
    future: Future = Future()
    future.set_result(value)
    return future


class FakeExecutor(Executor):
    """A one-worker executor, shaped like UniProcExecutor (direct calls, completed futures)."""

    def _init_executor(self) -> None:
        self.worker = FakeWorker(self.vllm_config)

    def collective_rpc(self, method, timeout=None, args=(), kwargs=None, non_block=False):
        result = [getattr(self.worker, method)(*args, **(kwargs or {}))]
        return _done(result) if non_block else result

    def execute_model(self, scheduler_output, non_block=False):
        result = self.worker.execute_model(scheduler_output)
        return _done(result) if non_block else result

    def sample_tokens(self, grammar_output, non_block=False):
        result = self.worker.sample_tokens(grammar_output)
        return _done(result) if non_block else result

    def check_health(self) -> None:
        pass


def build_engine(model_dir: Path | None = None, max_num_batched_tokens: int = 64,
                 max_num_seqs: int = 8) -> LLMEngine:
    """A real LLMEngine (in-process EngineCore) over FakeExecutor. VllmConfig is built by hand
    because EngineArgs asks the (absent) platform for a device type."""
    model_dir = model_dir or make_model_dir(Path(tempfile.mkdtemp(prefix="p01-lab03-")))
    model = ModelConfig(model=str(model_dir), dtype="float16", max_model_len=256, seed=0)
    config = VllmConfig(
        model_config=model,
        scheduler_config=SchedulerConfig(max_num_seqs=max_num_seqs, max_num_batched_tokens=max_num_batched_tokens,
                                         max_model_len=256, enable_chunked_prefill=True, is_encoder_decoder=False),
        cache_config=CacheConfig(block_size=BLOCK_SIZE, enable_prefix_caching=True),
        parallel_config=ParallelConfig(distributed_executor_backend=FakeExecutor),
        device_config=DeviceConfig("cpu"))
    return LLMEngine(config, executor_class=FakeExecutor, log_stats=False, multiprocess_mode=False)


def run_generate(engine: LLMEngine, prompts: list[str], params: SamplingParams) -> list[RequestOutput]:
    """What LLM.generate does, minus the LLM class: add every prompt, then step until done.

    Tokenize each prompt with `engine.get_tokenizer()` (no special tokens needed), wrap it with
    `tokens_input(ids, prompt=text)`, give each request a clone of `params` whose output_kind is
    FINAL_ONLY, use request ids "0", "1", ..., and return finished outputs sorted by int(request_id).
    """
    # TODO: add_request for each prompt (FINAL_ONLY clone), step until no unfinished, sort
    raise NotImplementedError('add_request for each prompt (FINAL_ONLY clone), step until no unfinished, sort')


if __name__ == "__main__":
    engine = build_engine()
    for out in run_generate(engine, ["The capital of France is", "Rome"], SamplingParams(max_tokens=12, stop=["."])):
        print(out.request_id, repr(out.outputs[0].text), out.outputs[0].finish_reason, out.outputs[0].stop_reason)
    print("steps:", engine.model_executor.worker.step_log)
