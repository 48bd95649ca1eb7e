"""Round 11: a module re-filed one folder in or out, under its own file name, is its symbols' home."""
from __future__ import annotations

from vmastery.reanchor.match import Matcher
from vmastery.reanchor.similarity import moved_modules

HANDLER = '''
async def collective_rpc(raw_request, method, timeout=None):
    payload = await raw_request.json()
    client = raw_request.app.state.engine_client
    replies = await client.collective_rpc(method=payload["method"], timeout=payload.get("timeout"),
                                          args=tuple(payload.get("args", ())), kwargs=payload.get("kwargs") or {})
    if replies is None:
        return Response(status_code=200)
    plain = [r if isinstance(r, (int, float, str, bool, list, dict)) else repr(r) for r in replies]
    return JSONResponse({"results": plain})
'''
# Four other definitions make `collective_rpc` a generic name, which alone vouches for nothing.
EXECUTORS = "".join(f'''
class Executor{n}:
    def collective_rpc(self, method, args=()):
        return self._run_on_workers_{n}(method, args)
''' for n in range(4))
ANCHOR = "vllm/serve/rpc/api_router.py::collective_rpc"


def trees(tmp_path, staged, new_path: str):
    old = staged(tmp_path / "old", {"vllm/serve/rpc/api_router.py": HANDLER, "vllm/executors.py": EXECUTORS})
    edited = HANDLER.replace("return Response(status_code=200)", "return Response(status_code=204)")
    new = staged(tmp_path / "new", {new_path: edited, "vllm/executors.py": EXECUTORS})
    return old, new


def without_clear_heirs(m: Matcher) -> Matcher:
    """Round 16 accepts this staged copy on its code alone (nearly all of it, nothing else close);
    switched off here to show what the module rule does by itself."""
    m.clear_heirs = False
    return m


def test_a_generic_name_follows_its_module_one_folder_down(tmp_path, staged):
    old, new = trees(tmp_path, staged, "vllm/serve/dev/rpc/api_router.py")
    assert moved_modules(old, new) == {"vllm/serve/rpc/api_router.py": {"vllm/serve/dev/rpc/api_router.py"}}
    d = without_clear_heirs(Matcher(old, new)).decide(ANCHOR)
    assert (d.state, d.new) == ("moved", "vllm/serve/dev/rpc/api_router.py::collective_rpc"), d
    plain = without_clear_heirs(Matcher(old, new))
    plain.modules = False  # without the rule the generic name proves nothing, and the handler is orphaned
    assert plain.decide(ANCHOR).state == "orphaned"


def test_a_namesake_file_in_a_sibling_folder_is_another_module(tmp_path, staged):
    # `rpc/api_router.py` -> `admin/api_router.py`: a folder renamed, not added; the copy proves nothing.
    old, new = trees(tmp_path, staged, "vllm/serve/admin/api_router.py")
    assert moved_modules(old, new) == {}
    assert without_clear_heirs(Matcher(old, new)).decide(ANCHOR).state == "orphaned"


def test_a_namesake_holding_little_of_the_module_is_not_it(tmp_path, staged):
    old = staged(tmp_path / "old", {"vllm/serve/rpc/api_router.py": HANDLER})
    other = '''
async def reset_cache(raw_request):
    client = raw_request.app.state.engine_client
    await client.reset_prefix_cache(reset_running_requests=True)
    return Response(status_code=200)
'''
    new = staged(tmp_path / "new", {"vllm/serve/dev/rpc/api_router.py": other})
    assert moved_modules(old, new) == {}
