"""Round 6: a module that became a package, a class split across files, and a model's next version."""
from __future__ import annotations

from vmastery.reanchor.match import Matcher
from vmastery.reanchor.structure import another_version


# A quantization config whose module `quant/inc.py` became the package `quant/inc/`; the class
# kept its name but most of its body went to a parser next to it, so little code is left in common.
INC_OLD = '''
class INCConfig:
    def __init__(self, bits: int, group_size: int, layers: dict):
        self.bits = bits
        self.group_size = group_size
        self.layers = layers
        self.packing = 32 // bits
        self.sym = True

    @classmethod
    def from_config(cls, config: dict) -> "INCConfig":
        bits = int(config.get("bits", 4))
        group_size = int(config.get("group_size", 128))
        return cls(bits, group_size, dict(config.get("extra_config", {})))

    def get_layer_config(self, name: str) -> tuple[int, int]:
        raw = self.layers.get(name, {})
        bits = raw.get("bits", self.bits)
        group = raw.get("group_size", self.group_size)
        if bits not in (2, 4, 8):
            raise ValueError(f"unsupported bits {bits} for {name}")
        return bits, group

    def is_layer_skipped(self, name: str) -> bool:
        raw = self.layers.get(name, {})
        return raw.get("bits", self.bits) >= 16 or name.endswith("lm_head")

    def packed_shape(self, rows: int, cols: int) -> tuple[int, int]:
        return rows, (cols + self.packing - 1) // self.packing
'''
INC_NEW = '''
class INCConfig:
    def __init__(self, bits: int, group_size: int, parser):
        self.bits = bits
        self.group_size = group_size
        self.parser = parser
        self.backend = "auto"

    @classmethod
    def from_config(cls, config: dict) -> "INCConfig":
        bits = int(config.get("bits", 4))
        group_size = int(config.get("group_size", 128))
        return cls(bits, group_size, make_parser(config))

    def describe(self) -> str:
        return f"inc w{self.bits} g{self.group_size} via {self.backend}"
'''


def test_module_that_became_a_package_keeps_its_classes(tmp_path, staged):
    old = staged(tmp_path / "old", {"vllm/quant/inc.py": INC_OLD})
    new = staged(tmp_path / "new", {"vllm/quant/inc/inc.py": INC_NEW, "vllm/quant/inc/__init__.py": "X = 1\n"})
    m = Matcher(old, new)
    d = m.decide("vllm/quant/inc.py::INCConfig")
    assert (d.state, d.new) == ("moved", "vllm/quant/inc/inc.py::INCConfig"), d
    assert d.similarity < 0.55  # under the bar away from home: only the package made it home
    assert m.decide("vllm/quant/inc.py::INCConfig.from_config").new == "vllm/quant/inc/inc.py::INCConfig.from_config"


def test_same_class_in_an_unrelated_folder_stays_orphaned(tmp_path, staged):
    old = staged(tmp_path / "old", {"vllm/quant/inc.py": INC_OLD})
    new = staged(tmp_path / "new", {"vllm/other/inc2/inc.py": INC_NEW})
    d = Matcher(old, new).decide("vllm/quant/inc.py::INCConfig")
    assert d.state == "orphaned", d


def test_a_model_s_next_version_is_not_a_rename():
    assert another_version("KimiK25VisionConfig", "KimiK3VisionConfig")
    assert not another_version("KimiK25VisionConfig", "KimiK25VisionConfig")
    assert not another_version("NixlConnectorScheduler", "NixlBaseConnectorScheduler")


# A scheduler split into a base (most of the body) and two variants in files of their own; the
# connector that built the old class now builds the pull variant.
SCHED_OLD = {
    "vllm/kv/scheduler.py": '''
class KVTransferScheduler:
    def __init__(self, config, engine_id: str):
        self.config = config
        self.engine_id = engine_id
        self.block_size = config.block_size
        self.pending_saves = {}
        self.pending_loads = {}
        self.finished_ids = set()

    def get_num_new_matched_tokens(self, request, num_computed: int) -> tuple[int, bool]:
        params = request.kv_transfer_params or {}
        if not params.get("do_remote_prefill"):
            return 0, False
        remote = len(request.prompt_token_ids) - num_computed
        return max(remote - remote % self.block_size, 0), True

    def update_state_after_alloc(self, request, blocks, num_external: int) -> None:
        params = request.kv_transfer_params or {}
        if num_external and params.get("remote_block_ids"):
            self.pending_loads[request.request_id] = (request, blocks.get_block_ids()[0])
        elif params.get("do_remote_decode"):
            self.pending_saves[request.request_id] = (request, blocks.get_unhashed_block_ids())

    def build_connector_meta(self, output) -> dict:
        meta = {"loads": dict(self.pending_loads), "saves": dict(self.pending_saves)}
        self.pending_loads.clear()
        self.pending_saves.clear()
        return meta

    def request_finished(self, request, block_ids: list[int]) -> tuple[bool, dict | None]:
        params = request.kv_transfer_params or {}
        if not params.get("do_remote_decode") or request.status != "finished_length":
            return False, None
        self.finished_ids.add(request.request_id)
        delay = len(block_ids) > 0
        return delay, {"remote_block_ids": block_ids, "remote_engine_id": self.engine_id,
                       "remote_host": self.config.host, "remote_port": self.config.port}
''',
    "vllm/kv/connector.py": '''
from vllm.kv.scheduler import KVTransferScheduler


class KVTransferConnector:
    def __init__(self, config, role: str):
        self.connector_scheduler = KVTransferScheduler(config, config.engine_id) if role == "scheduler" else None
''',
}
BASE = '''
class BaseKVTransferScheduler:
    def __init__(self, config, engine_id: str):
        self.config = config
        self.engine_id = engine_id
        self.block_size = config.block_size
        self.pending_saves = {}
        self.pending_loads = {}

    def get_num_new_matched_tokens(self, request, num_computed: int) -> tuple[int, bool]:
        params = request.kv_transfer_params or {}
        if not params.get("do_remote_prefill"):
            return 0, False
        remote = len(request.prompt_token_ids) - num_computed
        return max(remote - remote % self.block_size, 0), True

    def update_state_after_alloc(self, request, blocks, num_external: int) -> None:
        params = request.kv_transfer_params or {}
        if num_external and params.get("remote_block_ids"):
            self.pending_loads[request.request_id] = (request, blocks.get_block_ids()[0])
        elif params.get("do_remote_decode"):
            self.pending_saves[request.request_id] = (request, blocks.get_unhashed_block_ids())

    def build_connector_meta(self, output) -> dict:
        meta = {"loads": dict(self.pending_loads), "saves": dict(self.pending_saves)}
        self.pending_loads.clear()
        self.pending_saves.clear()
        return meta
'''
PULL = '''
from vllm.kv.base_scheduler import BaseKVTransferScheduler


class PullKVTransferScheduler(BaseKVTransferScheduler):
    def __init__(self, config, engine_id: str):
        super().__init__(config, engine_id)
        self.finished_ids = set()

    def request_finished(self, request, block_ids: list[int]) -> tuple[bool, dict | None]:
        params = request.kv_transfer_params or {}
        if not params.get("do_remote_decode") or request.status != "finished_length":
            return False, None
        self.finished_ids.add(request.request_id)
        delay = bool(block_ids)
        return delay, {"remote_block_ids": block_ids, "remote_engine_id": self.engine_id,
                       "remote_host": self.config.host, "remote_port": self.config.port}
'''
PUSH = '''
from vllm.kv.base_scheduler import BaseKVTransferScheduler


class PushKVTransferScheduler(BaseKVTransferScheduler):
    def request_finished(self, request, block_ids: list[int]) -> tuple[bool, dict | None]:
        params = request.kv_transfer_params or {}
        if not params.get("do_remote_decode"):
            return False, None
        self.push_blocks(request.request_id, block_ids)
        return False, {"remote_engine_id": self.engine_id}
'''
# `request_finished` is a hook every connector defines: the name alone proves nothing.
OTHERS = "\n".join(f'''
class Other{i}Scheduler:
    def request_finished(self, request, block_ids):
        return False, {{"n": {i}}}
''' for i in range(4))
SCHED_OLD["vllm/kv/others.py"] = OTHERS
SCHED_NEW = {
    "vllm/kv/others.py": OTHERS,
    "vllm/kv/base_scheduler.py": BASE, "vllm/kv/pull_scheduler.py": PULL, "vllm/kv/push_scheduler.py": PUSH,
    "vllm/kv/connector.py": '''
from vllm.kv.pull_scheduler import PullKVTransferScheduler


class KVTransferConnector:
    def __init__(self, config, role: str):
        self.connector_scheduler = PullKVTransferScheduler(config, config.engine_id) if role == "scheduler" else None
''',
}


def test_class_split_across_files_goes_to_the_base_and_members_to_their_variant(tmp_path, staged):
    m = Matcher(staged(tmp_path / "old", SCHED_OLD), staged(tmp_path / "new", SCHED_NEW))
    d = m.decide("vllm/kv/scheduler.py::KVTransferScheduler")
    assert (d.state, d.new) == ("renamed", "vllm/kv/base_scheduler.py::BaseKVTransferScheduler"), d
    member = m.decide("vllm/kv/scheduler.py::KVTransferScheduler.request_finished")
    assert member.new == "vllm/kv/pull_scheduler.py::PullKVTransferScheduler.request_finished", member
