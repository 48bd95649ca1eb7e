"""Grades lab 04: find_stop_string against vLLM's check_stop_strings; driving the real OutputProcessor."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vllm import SamplingParams
from vllm.v1.engine.detokenizer import check_stop_strings

TEXT = st.text(alphabet="ab.c ", max_size=24)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT, new=st.integers(0, 30), stop=st.lists(st.text(alphabet="ab.c ", min_size=1, max_size=4), max_size=3),
       include=st.booleans())
def test_matches_vllm_check_stop_strings(impl, text, new, stop, include):
    new = min(new, len(text))
    assert impl.find_stop_string(text, new, stop, include) == check_stop_strings(text, new, stop, include)


def test_listed_first_wins_not_leftmost(impl):
    assert impl.find_stop_string("xx STOP yy END", 14, ["END", "STOP"], False) == ("END", 11)


def test_split_across_steps_is_found(impl):
    # "END" started in the previous step ("..EN") and is completed by the new char "D".
    assert impl.find_stop_string("abc END", 1, ["END"], False) == ("END", 4)
    assert impl.find_stop_string("abc END", 1, ["END"], True) == ("END", -1)


def test_old_text_is_not_searched_again(impl):
    assert impl.find_stop_string("END and more text", 3, ["END"], False) is None


@pytest.fixture(scope="module")
def tok():
    import importlib.util
    from pathlib import Path
    spec = importlib.util.spec_from_file_location("lab04_tok", Path(__file__).parent / "solution.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_tokenizer()


GENERATED = " Paris is the capital. Rome is next!"


def _ids(tok):
    return tok.encode(GENERATED, add_special_tokens=False)


def test_stream_without_stop_reassembles_text(impl, tok):
    deltas, info = impl.stream(tok, "The capital of France is", _ids(tok), SamplingParams())
    assert "".join(deltas) == GENERATED
    assert info["finish_reason"] == "length" and info["steps"] == len(_ids(tok))


def test_stream_stop_string_cuts_and_asks_for_abort(impl, tok):
    deltas, info = impl.stream(tok, "The capital of France is", _ids(tok), SamplingParams(stop=["capital."]),
                               request_id="r7")
    assert "".join(deltas) == " Paris is the "
    assert info["finish_reason"] == "stop" and info["stop_reason"] == "capital."
    assert info["aborted"] == ["r7"]                  # the core must be told: it never saw the text
    assert info["steps"] < len(_ids(tok))


def test_stream_holds_back_possible_stop_prefix(impl, tok):
    """No delta may contain text that a later stop match removes: 'capital' is held back."""
    deltas, _ = impl.stream(tok, "q", _ids(tok), SamplingParams(stop=["capital."]))
    assert all("capital" not in d for d in deltas)


def test_include_stop_str_in_output(impl, tok):
    deltas, info = impl.stream(tok, "q", _ids(tok), SamplingParams(stop=["."], include_stop_str_in_output=True))
    assert "".join(deltas) == " Paris is the capital."
    assert info["stop_reason"] == "."
