"""Lab 04 — stop strings and streaming text, checked against vLLM's real output processor.

The EngineCore only ever sees token ids, so stop *strings* are the front-end's job: after each step
{anchor}`vllm/v1/engine/output_processor.py::OutputProcessor.process_outputs` feeds the new ids to an
incremental detokenizer ({anchor}`vllm/v1/engine/detokenizer.py::BaseIncrementalDetokenizer.update`),
which searches only the new text with {anchor}`vllm/v1/engine/detokenizer.py::check_stop_strings` and
holds back a possible stop-string prefix from streamed output
({anchor}`vllm/v1/engine/detokenizer.py::BaseIncrementalDetokenizer.get_next_output_text`).

Part A: write `find_stop_string`, with exactly the contract of `check_stop_strings` (the tests compare
the two on thousands of random cases). Part B: drive the *real* OutputProcessor by hand, the way
LLMEngine.step does, and collect what a streaming client would receive.
"""
import time

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from vllm import SamplingParams
from vllm.sampling_params import RequestOutputKind
from vllm.v1.engine import EngineCoreOutput, EngineCoreRequest, FinishReason
from vllm.v1.engine.output_processor import OutputProcessor


def find_stop_string(output_text: str, new_char_count: int, stop: list[str],
                     include_in_output: bool) -> tuple[str, int] | None:
    """Return (stop_string, truncate_to) for the first string *in the order of `stop`* that occurs
    in the searchable tail, else None.

    * Nothing new (`new_char_count == 0`) or no stop strings: None.
    * Searchable tail: a match must end inside the last `new_char_count` characters, i.e. it may
      start at most `new_char_count + len(s) - 1` characters from the end (clamped to the start).
    * truncate_to is the match's start; with `include_in_output` it is the match's end instead, and
      if that end is the end of the text, return -1 (nothing to cut).
    """
    # BEGIN SOLUTION: for each stop string in order: windowed find, then compute the cut
    if not new_char_count or not stop:
        return None
    for s in stop:
        start = max(0, len(output_text) - (new_char_count + len(s) - 1))
        index = output_text.find(s, start)
        if index == -1:
            continue
        if include_in_output:
            index += len(s)
            if index >= len(output_text):
                return s, -1
        return s, index
    return None
    # END SOLUTION


CORPUS = ["The capital of France is Paris.", "Rome is the capital of Italy!", "Stop here. Then go on.",
          "the quick brown fox jumps over the lazy dog", "END of text END"] * 40


def make_tokenizer() -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer trained in memory (no download), wrapped like a HF fast tokenizer."""
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(CORPUS, trainers.BpeTrainer(
        vocab_size=300, special_tokens=["<unk>", "<s>", "</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>")


def stream(tokenizer: PreTrainedTokenizerFast, prompt: str, generated: list[int],
           params: SamplingParams, request_id: str = "req-0") -> tuple[list[str], dict]:
    """Feed `generated` to a real OutputProcessor one token per step, in DELTA mode.

    Build the EngineCoreRequest yourself (a clone of `params` with output_kind DELTA; set both
    request_id and external_req_id to `request_id`; prompt_token_ids from the tokenizer without
    special tokens; fields you do not need are None). Register it with `add_request(request, prompt)`.
    Then, for each token, call `process_outputs` with one EngineCoreOutput whose finish_reason is
    LENGTH on the last token (None before). Append the text of every RequestOutput you get back;
    stop early once an output is finished (a stop string matched).

    Returns (deltas, info) with info = {"finish_reason", "stop_reason", "aborted": ids the
    processor asked to abort in the core, "steps": how many steps were fed}.
    """
    # BEGIN SOLUTION: build + add the request, then one process_outputs call per token
    processor = OutputProcessor(tokenizer, log_stats=False)
    request_params = params.clone()
    request_params.output_kind = RequestOutputKind.DELTA
    request = EngineCoreRequest(
        request_id=request_id, external_req_id=request_id,
        prompt_token_ids=tokenizer.encode(prompt, add_special_tokens=False),
        mm_features=None, sampling_params=request_params, pooling_params=None,
        arrival_time=time.time(), lora_request=None, cache_salt=None, data_parallel_rank=None)
    processor.add_request(request, prompt)
    deltas: list[str] = []
    info = {"finish_reason": None, "stop_reason": None, "aborted": [], "steps": 0}
    for i, token in enumerate(generated):
        last = i == len(generated) - 1
        result = processor.process_outputs(
            [EngineCoreOutput(request_id=request_id, new_token_ids=[token],
                              finish_reason=FinishReason.LENGTH if last else None)])
        info["steps"] += 1
        info["aborted"].extend(result.reqs_to_abort)
        for out in result.request_outputs:
            deltas.append(out.outputs[0].text)
            if out.finished:
                info["finish_reason"] = out.outputs[0].finish_reason
                info["stop_reason"] = out.outputs[0].stop_reason
        if info["finish_reason"] is not None:
            break
    return deltas, info
    # END SOLUTION


if __name__ == "__main__":
    tok = make_tokenizer()
    ids = tok.encode(" Paris is the capital. Rome is next!", add_special_tokens=False)
    print(stream(tok, "The capital of France is", ids, SamplingParams(stop=["capital."])))
