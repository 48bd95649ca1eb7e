"""Round 21: the files that imported a symbol from its old module say where it went, unless the name
changed hands."""
from __future__ import annotations

import importlib.util
from pathlib import Path

from vmastery.reanchor.imports import from_imports
from vmastery.reanchor.match import Matcher

_spec = importlib.util.spec_from_file_location("round20", Path(__file__).with_name("test_round20.py"))
round20 = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(round20)  # the helper, its shared rewrite and the newcomer's copy

DRAFTER = '''
class OrcaDrafter:
    def skip(self, config, name: str) -> bool:
        return draft_layer_of(config, name) is not None
'''
ANCHOR = round20.ANCHOR
OLD = {**round20.OLD, "vllm/models/orca_draft.py": "from .orca import OrcaModel, draft_layer_of\n" + DRAFTER}


def _new(drafter_import: str) -> dict[str, str]:
    # orca.py itself neither defines nor imports the helper any more: only its old importer tells.
    files = round20._new("")
    return {**files, "vllm/models/orca_draft.py": drafter_import + DRAFTER}


def test_an_importer_that_now_imports_it_from_elsewhere_is_followed(tmp_path, staged):
    old = staged(tmp_path / "old", OLD)
    new = staged(tmp_path / "new", _new("from .orca import OrcaModel\nfrom .helpers import draft_layer_of\n"))
    d = Matcher(old, new).decide(ANCHOR)
    assert (d.state, d.new) == ("moved", "vllm/models/helpers.py::draft_layer_of"), d
    assert d.evidence[0] == "vllm/models/orca_draft.py now imports draft_layer_of from vllm/models/helpers.py"
    plain = Matcher(old, new)
    plain.importers = False
    assert plain.decide(ANCHOR).new != "vllm/models/helpers.py::draft_layer_of"


def test_importers_that_disagree_prove_nothing(tmp_path, staged):
    old = staged(tmp_path / "old", {**OLD, "vllm/models/orca_eval.py": "from .orca import draft_layer_of\n"})
    new_files = _new("from .helpers import draft_layer_of\n")
    new_files["vllm/models/orca_eval.py"] = "from .narwhal import draft_layer_of\n"
    new = staged(tmp_path / "new", new_files)
    assert "imports" not in " ".join(Matcher(old, new).decide(ANCHOR).evidence)


def test_a_name_handed_to_another_class_is_not_followed(tmp_path, staged):
    # `Handler` became `Worker` (renamed in place, word for word); the old `Worker` was deleted.
    # Its importers now import `Worker` again, but that is the renamed `Handler`, not it.
    handler = '''
class {name}:
    """Moves finished blocks between the device and host pools, one transfer at a time."""

    def __init__(self, pools: dict[str, list[int]]):
        self.pools, self.pending = pools, []

    def submit(self, job: tuple[str, str, int]) -> None:
        source, dest, block = job
        self.pools[source].remove(block)
        self.pending.append((dest, block))
'''
    worker = '''
class Worker:
    """Polls the transfer queue and reports finished jobs back to the scheduler thread."""

    def poll(self, queue: list[int]) -> list[int]:
        done = [job for job in queue if job >= 0]
        queue.clear()
        return done
'''
    old = staged(tmp_path / "old", {"vllm/offload/base.py": handler.format(name="Handler"),
                                    "vllm/offload/worker.py": worker,
                                    "vllm/offload/runner.py": "from vllm.offload.worker import Worker\n"})
    new = staged(tmp_path / "new", {"vllm/offload/base.py": handler.format(name="Worker"),
                                    "vllm/offload/runner.py": "from vllm.offload.base import Worker\n"})
    m = Matcher(old, new)
    assert m.decide("vllm/offload/base.py::Handler").new == "vllm/offload/base.py::Worker"
    assert m.decide("vllm/offload/worker.py::Worker").state == "orphaned"


def test_from_imports_reads_the_statement_shapes_in_use():
    source = "from .utils import (\n    a,  # why\n    b as c,\n)\nfrom vllm.x import y as z, w\n    from ..pkg import q\nimport os\n"
    assert from_imports(source) == ((1, "utils", "a", "a"), (1, "utils", "b", "c"), (0, "vllm.x", "y", "z"),
                                    (0, "vllm.x", "w", "w"), (2, "pkg", "q", "q"))
