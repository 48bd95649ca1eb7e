"""Structured output: a per-step mask of the tokens that keep the output inside a JSON schema or regex.

Upstream: {anchor}`vllm/v1/structured_output/__init__.py::StructuredOutputManager`,
{anchor}`vllm/v1/structured_output/backend_xgrammar.py::XgrammarBackend`,
{anchor}`vllm/v1/structured_output/backend_xgrammar.py::XgrammarGrammar`.

Like vLLM we delegate the grammar to XGrammar: it compiles the schema/regex into a pushdown
automaton over the *tokenizer's* vocabulary and precomputes which tokens are valid in each state,
so a per-step mask is a cheap lookup. Our job is only the plumbing: one matcher per request, ask
it for a mask before sampling, feed it the sampled token after.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from mini_vllm.sampling_params import StructuredOutputsParams


class StructuredOutputGrammar:
    """One request's grammar state (an `xgrammar.GrammarMatcher`)."""

    def __init__(self, matcher, vocab_size: int) -> None:
        import xgrammar as xgr

        self._xgr = xgr
        self.matcher = matcher
        self.vocab_size = vocab_size
        self._bitmask = xgr.allocate_token_bitmask(1, vocab_size)

    def allowed_mask(self) -> torch.Tensor:
        """Boolean [vocab]: True where a token keeps the output valid."""
        self.matcher.fill_next_token_bitmask(self._bitmask)
        probe = torch.zeros(1, self.vocab_size)
        self._xgr.apply_token_bitmask_inplace(probe, self._bitmask)
        return probe[0] == 0

    def accept_token(self, token: int) -> None:
        if not self.matcher.accept_token(token):
            raise RuntimeError(f"grammar rejected token {token}: the mask was not applied")

    def is_terminated(self) -> bool:
        return self.matcher.is_terminated()


class StructuredOutputManager:
    """Compiles grammars against the model's tokenizer (compiled grammars are cached by text)."""

    def __init__(self, model_dir: str | Path, vocab_size: int) -> None:
        import xgrammar as xgr
        from transformers import PreTrainedTokenizerFast

        tok = PreTrainedTokenizerFast(tokenizer_file=str(Path(model_dir) / "tokenizer.json"),
                                      eos_token="</s>")
        self._xgr = xgr
        self.vocab_size = vocab_size
        info = xgr.TokenizerInfo.from_huggingface(tok, vocab_size=vocab_size)
        self.compiler = xgr.GrammarCompiler(info)
        self._cache: dict[tuple[str, str], object] = {}

    def grammar_for(self, params: StructuredOutputsParams) -> StructuredOutputGrammar:
        if params.json is not None:
            text = params.json if isinstance(params.json, str) else json.dumps(params.json)
            key = ("json", text)
            if key not in self._cache:
                # any_whitespace=False: a model cannot stall the output with endless whitespace.
                self._cache[key] = self.compiler.compile_json_schema(text, any_whitespace=False)
        else:
            key = ("regex", params.regex)
            if key not in self._cache:
                self._cache[key] = self.compiler.compile_regex(params.regex)
        return StructuredOutputGrammar(self._xgr.GrammarMatcher(self._cache[key]), self.vocab_size)
