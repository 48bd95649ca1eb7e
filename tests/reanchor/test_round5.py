"""Round 5: short methods renamed in their class, and decisions that do not depend on hash order."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from vmastery.reanchor.match import Matcher
from vmastery.symbols import SymbolIndex


# A short accessor renamed with the unit it counts (blocks -> chunks); its body changed a little.
POOL_OLD = '''
class HostPool:
    def __init__(self, capacity: int):
        self.capacity = capacity
        self.used = 0
        self.pinned = {}

    def _get_num_free_blocks(self) -> int:
        return self.capacity - self.used - len(self.pinned)

    def reserve(self, count: int) -> bool:
        if count > self.capacity - self.used:
            return False
        self.used += count
        return True
'''

POOL_NEW = '''
class HostPool:
    def __init__(self, capacity: int):
        self.capacity = capacity
        self.used = 0
        self.pinned = {}

    def _get_num_free_chunks(self) -> int:
        return max(self.capacity - self.used - len(self.pinned_chunks), 0)

    def reserve(self, count: int) -> bool:
        if count > self.capacity - self.used:
            return False
        self.used += count
        return True

    def describe(self) -> str:
        return f"pool of {self.capacity}"
'''

# The same short body next to a new method whose name shares no word with the old one.
POOL_DECOY = POOL_NEW.replace("_get_num_free_chunks", "remaining_capacity")


def test_short_method_renamed_in_its_class_with_a_shared_word_and_a_clear_lead(tmp_path, staged):
    m = Matcher(staged(tmp_path / "old", {"vllm/pool.py": POOL_OLD}), staged(tmp_path / "new", {"vllm/pool.py": POOL_NEW}))
    d = m.decide("vllm/pool.py::HostPool._get_num_free_blocks")
    assert (d.state, d.new) == ("renamed", "vllm/pool.py::HostPool._get_num_free_chunks"), d
    assert d.similarity < 0.9  # below the short-body bar: only the shared word and the lead let it through


def test_short_method_whose_new_name_shares_no_word_stays_orphaned(tmp_path, staged):
    m = Matcher(staged(tmp_path / "old", {"vllm/pool.py": POOL_OLD}), staged(tmp_path / "new", {"vllm/pool.py": POOL_DECOY}))
    d = m.decide("vllm/pool.py::HostPool._get_num_free_blocks")
    assert d.state == "orphaned", d


SCRIPT = """
import json, sys
from pathlib import Path
from vmastery.reanchor.match import Matcher
from vmastery.symbols import SymbolIndex
old, new = (SymbolIndex.build(Path(p), None, progress=False) for p in sys.argv[1:3])
m = Matcher(old, new)
print(json.dumps([[d.old, d.state, d.new, d.candidates] for d in m.decide_many(sorted(old.by_anchor))]))
"""


TRIM_OLD = """
def trim_batch(batch, limit: int, floor: int = 0):
    kept_items = [item for item in batch if floor <= item.size <= limit]
    kept_items.sort(key=lambda item: (item.size, item.name))
    dropped_items = [item for item in batch if item not in kept_items]
    return kept_items[:limit], dropped_items
"""
# Six copies keep its first two lines, six others its last two: every copy shares two lines, so the
# shared-line counts tie, and only eight of the twelve are proposed.
TRIM_HEAD = """
def copy_{i}(batch, limit: int, floor: int = 0):
    kept_items = [item for item in batch if floor <= item.size <= limit]
    kept_items.sort(key=lambda item: (item.size, item.name))
    dropped = [x for x in batch if x.size > limit]
    return kept_items, dropped
"""
TRIM_TAIL = """
def copy_{i}(batch, limit: int, floor: int = 0):
    picked = [x for x in batch if x.size >= floor]
    dropped_items = [item for item in batch if item not in kept_items]
    return kept_items[:limit], dropped_items
"""


def test_decisions_do_not_depend_on_the_hash_seed(tmp_path, staged):
    """Ties between equally good candidates are broken by anchor, not by set order (round 5 fix:
    heldout5 scored 64 or 63 correct depending on PYTHONHASHSEED). Before the fix, which copies
    were proposed, and so the nearest candidates listed, changed with the seed."""
    staged(tmp_path / "old", {"vllm/a.py": TRIM_OLD})
    staged(tmp_path / "new", {f"vllm/w{i:02d}.py": (TRIM_HEAD if i < 6 else TRIM_TAIL).format(i=i) for i in range(12)})
    outputs = set()
    for seed in "12345678":
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "old"), str(tmp_path / "new")],
                             env=env, capture_output=True, text=True, check=True)
        outputs.add(run.stdout)
    assert len(outputs) == 1, outputs
    [[anchor, state, _, nearest]] = json.loads(outputs.pop())
    assert (anchor, state) == ("vllm/a.py::trim_batch", "orphaned")  # twelve near-equal heirs: no guess
    assert [a for a, _ in nearest] == ["vllm/w00.py::copy_0", "vllm/w01.py::copy_1", "vllm/w02.py::copy_2"]
