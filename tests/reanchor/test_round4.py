"""Round-4 evidence: names kept inside longer ones, overrides that follow their base, name against code."""
from __future__ import annotations

import textwrap

from vmastery.reanchor.match import Matcher
from vmastery.reanchor.similarity import name_kept, name_words, words_added


def test_name_words_split_acronyms_and_kept_names():
    assert name_words("PPHandler") == {"pp", "handler"}
    assert name_words("FlashInferTrtllmAPIDecode") == {"flash", "infer", "trtllm", "api", "decode"}
    assert name_kept("pp_receive", "PPHandler.receive") and name_kept("TRTLLMDecode", "FlashInferTrtllmAPIDecode")
    assert words_added("get_finished", "Manager.get_finished_jobs") == 2  # `jobs` and the class's `manager`
    assert not name_kept("forward", "forward_mqa")  # one word is too little to call a name kept
    assert not name_kept("scale_elastic_ep", "prepare_elastic_ep")


PIPE_OLD = '''
def pp_send(tensor, group, rank: int, world: int) -> None:
    if world == 1:
        return
    shape = torch.tensor(tensor.shape, device=tensor.device)
    group.send(shape, dst=(rank + 1) % world)
    group.send(tensor.contiguous(), dst=(rank + 1) % world)


def pp_receive(group, rank: int, world: int, dtype):
    shape = torch.empty(2, dtype=torch.int64)
    group.recv(shape, src=(rank - 1) % world)
    out = torch.empty(tuple(shape.tolist()), dtype=dtype)
    group.recv(out, src=(rank - 1) % world)
    return out
'''

PIPE_NEW = '''
class PPHandler:
    def __init__(self, group, rank: int, world: int):
        self.group, self.rank, self.world = group, rank, world
        self.next_rank, self.prev_rank = (rank + 1) % world, (rank - 1) % world

    def send(self, tensor) -> None:
        if self.world == 1:
            return
        shape = torch.tensor(tensor.shape, device=tensor.device)
        self.group.send(shape, dst=self.next_rank)
        self.group.send(tensor.contiguous(), dst=self.next_rank)

    def receive(self, dtype):
        shape = torch.empty(2, dtype=torch.int64)
        self.group.recv(shape, src=self.prev_rank)
        return self.group.recv_into(torch.empty(tuple(shape.tolist()), dtype=dtype), src=self.prev_rank)
'''


def test_functions_wrapped_into_a_class_keep_their_names(tmp_path, staged):
    m = Matcher(staged(tmp_path / "old", {"vllm/pp.py": PIPE_OLD}), staged(tmp_path / "new", {"vllm/pp.py": PIPE_NEW}))
    for name in ("send", "receive"):
        d = m.decide(f"vllm/pp.py::pp_{name}")
        assert (d.state, d.new) == ("renamed", f"vllm/pp.py::PPHandler.{name}"), (name, d)


BASE_OLD = '''
class TierManager:
    def get_finished(self) -> list:
        raise NotImplementedError

    def submit(self, job) -> None:
        raise NotImplementedError
'''

FS_OLD = '''
class FileTierManager(TierManager):
    def get_finished(self) -> list:
        done = []
        while not self.queue.empty():
            job_id, ok = self.queue.get_nowait()
            done.append(JobResult(job_id, ok))
        return done

    def submit(self, job) -> None:
        self.pool.submit(self.run, job)
'''

BASE_NEW = BASE_OLD.replace("get_finished", "get_finished_jobs")

# The override was rewritten well beyond what code similarity alone could vouch for.
FS_NEW = '''
class FileTierManager(TierManager):
    def get_finished_jobs(self) -> list:
        results = self.pool.collect(timeout=0)
        for result in results:
            self.events.append(("finished", result.job_id, result.loaded_bytes))
        return [r for r in results if r.kind != "partial"] + self.partials.flush()

    def submit(self, job) -> None:
        self.pool.submit(self.run, job)
'''


def test_an_override_follows_its_base_rename(tmp_path, staged):
    files_old = {"vllm/tier/base.py": BASE_OLD, "vllm/tier/fs.py": "from vllm.tier.base import TierManager\n" + FS_OLD}
    files_new = {"vllm/tier/base.py": BASE_NEW, "vllm/tier/fs.py": "from vllm.tier.base import TierManager\n" + FS_NEW}
    m = Matcher(staged(tmp_path / "old", files_old), staged(tmp_path / "new", files_new))
    assert m.decide("vllm/tier/base.py::TierManager.get_finished").new == "vllm/tier/base.py::TierManager.get_finished_jobs"
    d = m.decide("vllm/tier/fs.py::FileTierManager.get_finished")
    assert (d.state, d.new) == ("renamed", "vllm/tier/fs.py::FileTierManager.get_finished_jobs"), d
    assert d.evidence[0].startswith("override follows its base")


def test_a_split_interface_leaves_the_override_for_review(tmp_path, staged):
    """The base's `scale` became `prepare_scale` + `commit_scale`; the override's code is closer to
    the commit half, the base's rename points at the prepare half: a person decides."""
    base_old = "class Client:\n    async def scale(self, size: int) -> None:\n        raise NotImplementedError\n"
    base_new = ("class Client:\n    async def prepare_scale(self, size: int) -> None:\n        raise NotImplementedError\n\n"
                "    async def commit_scale(self) -> None:\n        raise NotImplementedError\n")
    sub_old = '''
    class LBClient(Client):
        async def scale(self, size: int) -> None:
            old_size = self.size
            self.pending = size
            await self.broadcast_reconfigure(size)
            self.engines = [Engine(i) for i in range(size)]
            logger.info("scaled from %d to %d engines", old_size, size)
    '''
    sub_new = '''
    class LBClient(Client):
        async def prepare_scale(self, size: int) -> None:
            self.pending = size
            self.draining = True

        async def commit_scale(self) -> None:
            if not self.draining:
                raise RuntimeError("commit_scale without prepare_scale")
            await self.broadcast_reconfigure(self.pending)
            self.engines = [Engine(i) for i in range(self.pending)]
            self.size, self.draining = self.pending, False
    '''
    m = Matcher(staged(tmp_path / "old", {"vllm/c.py": base_old + textwrap.dedent(sub_old)}),
                staged(tmp_path / "new", {"vllm/c.py": base_new + textwrap.dedent(sub_new)}))
    assert m.decide("vllm/c.py::Client.scale").new == "vllm/c.py::Client.prepare_scale"
    d = m.decide("vllm/c.py::LBClient.scale")
    assert d.state == "review", d
    assert [a for a, _ in d.candidates] == ["vllm/c.py::LBClient.prepare_scale", "vllm/c.py::LBClient.commit_scale"]
