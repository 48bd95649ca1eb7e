"""Tracepoint declarations: the committed ones are valid, bad ones are reported with file:line."""
from pathlib import Path

from vmastery.symbols import index_for
from vmastery.tracing.spec import load, site_link

ROOT = Path(__file__).resolve().parents[2]


def test_committed_tracepoints_are_valid_and_resolve():
    points, problems = load(ROOT)
    assert problems == []
    assert len(points) >= 15
    index = index_for(ROOT, progress=False)
    assert [p.anchor for p in points if index.get(p.anchor) is None] == []
    assert {p.level for p in points} == {"span", "fine"}
    assert all(p.file.startswith("tracepoints/") and p.line > 0 for p in points)


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "tracepoints").mkdir()
    (tmp_path / "tracepoints" / "x.yaml").write_text(text)
    return tmp_path


def test_bad_entries_are_reported_with_their_line(tmp_path):
    root = _write(tmp_path, """\
tracepoints:
  - anchor: vllm/a.py::A.f
    level: span
    attributes: [request_id]
    why: fine
  - anchor: vllm/a.py::A.g
    level: span
    attributes: [no_such_thing]
    why: typo in an attribute
  - anchor: vllm/a.py::A.h
    level: coarse
    why: bad level
  - anchor: vllm/a.py::A.i
    level: fine
    colour: red
    why: unknown key
  - anchor: vllm/a.py::A.f
    level: fine
    why: duplicate
""")
    points, problems = load(root)
    assert [p.anchor for p in points] == ["vllm/a.py::A.f"]
    found = {(p.line, p.code) for p in problems}
    assert found == {(6, "tracepoint-attribute"), (10, "tracepoint-invalid"), (13, "tracepoint-invalid"),
                     (17, "tracepoint-duplicate")}
    assert all(p.path == "tracepoints/x.yaml" for p in problems)


def test_yaml_syntax_error_has_a_line(tmp_path):
    root = _write(tmp_path, "tracepoints:\n  - anchor: a.py::f\n    why: [unclosed\n")
    _, problems = load(root)
    assert len(problems) == 1 and problems[0].code == "tracepoint-yaml" and problems[0].line >= 3


def test_site_link_scheme():
    assert site_link("https://x.org/", "vllm/v1/core/block_pool.py::BlockPool.get_new_blocks") == \
        "https://x.org/source/vllm/v1/core/block_pool.py.html#BlockPool.get_new_blocks"
