"""The site built from the toy tree: pages, notes beside code, links, backlinks, failures, rebuilds."""
from __future__ import annotations

import json
import re
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

from vmastery.site.cli import build

TOY_PAGE = "source/vllm/engine/toy.py.html"


def read(out: Path, rel: str) -> str:
    return (out / rel).read_text(encoding="utf-8")


def test_every_file_has_a_page_with_upstream_line_numbers(toy_site: Path, Page):
    for rel in ("vllm/engine/toy.py", "vllm/engine/helpers.py", "vllm/engine/__init__.py", "csrc/kernels.cu",
                "csrc/ops.h"):
        assert (toy_site / f"source/{rel}.html").exists(), rel
    page = Page(read(toy_site, TOY_PAGE))
    lines = (toy_site.parent.parent / "upstream/vllm/engine/toy.py").read_text().splitlines()
    assert {f"L{n}" for n in range(1, len(lines) + 1)} <= page.ids
    assert f"L{len(lines) + 1}" not in page.ids
    assert {"Pool", "Pool.take", "Pool.take_one", "build_pool"} <= page.ids
    assert "toy::add_kernel" in Page(read(toy_site, "source/csrc/kernels.cu.html")).ids
    assert (toy_site / "source/index.html").exists() and (toy_site / "source/vllm/engine/index.html").exists()


def test_note_sits_in_the_segment_of_its_symbol_and_line_note_by_its_line(toy_site: Path):
    html = read(toy_site, TOY_PAGE)
    segments = html.split('<section class="vm-seg">')[1:]
    with_note = next(s for s in segments if 'data-anchor="vllm/engine/toy.py::Pool.take"' in s)
    assert 'id="Pool.take"' in with_note.split("</pre>")[0]  # the code beside the note starts with the symbol
    assert "Hands out the <strong>first</strong> ids" in with_note
    line_seg = next(s for s in segments if "vm-linenote" in s)
    first_line = re.search(r'id="L(\d+)"', line_seg).group(1)
    source = (toy_site.parent.parent / "upstream/vllm/engine/toy.py").read_text().splitlines()
    assert "del self.free[:count]" in source[int(first_line) - 1]
    assert 'class="ln vm-marked"' in line_seg
    assert "Removing in place keeps the list" in line_seg


def test_drift_marker_only_on_the_drifted_note(toy_site: Path):
    html = read(toy_site, TOY_PAGE)
    drifted = re.findall(r'<aside class="vm-note" data-anchor="([^"]+)">(.*?)</aside>', html, re.S)
    marked = {anchor for anchor, body in drifted if "vm-drift" in body}
    assert marked == {"vllm/engine/toy.py::build_pool"}


def test_names_link_to_their_definitions_across_files(toy_site: Path):
    html = read(toy_site, TOY_PAGE)
    assert 'href="helpers.py.html#make_helper"' in html  # from ... import
    assert 'href="helpers.py.html#Helper"' in html  # re-exported through vllm/engine/__init__.py
    assert 'href="helpers.py.html#size"' in html  # module imported with `from . import helpers`
    assert 'href="#Pool.take"' in html  # self.take inside Pool
    assert 'href="ops.h.html"' in read(toy_site, "source/csrc/kernels.cu.html")  # #include
    data = json.loads(re.search(r'<script type="application/json" id="vm-data">(.*?)</script>',
                                read(toy_site, "source/vllm/engine/helpers.py.html"), re.S).group(1))
    assert any("toy.py.html#L" in url for url, _ in data["refs"]["make_helper"])  # referenced by


def test_discussed_in_backlinks_from_course_and_tour(toy_site: Path):
    html = read(toy_site, TOY_PAGE)
    take = re.search(r'data-anchor="vllm/engine/toy.py::Pool.take">(.*?)</aside>', html, re.S).group(1)
    assert "The toy guide" in take and "A walk through the toy pool" in take
    assert "discussed in 1" in read(toy_site, "source/csrc/kernels.cu.html")


def test_course_tour_and_roles_render_live_code(toy_site: Path):
    guide = read(toy_site, "course/phase-01-toy/00-guide.html")
    text = re.sub(r"<[^>]+>", "", guide)
    assert "vllm/engine/toy.py:14 — Pool.take()" in text
    assert 'href="../../source/vllm/engine/toy.py.html#Pool.take"' in guide
    assert "del self.free[:count]" in text and "def take" not in text  # :from: / :to: narrow it
    tour = re.sub(r"<[^>]+>", "", read(toy_site, "annotations/tours/toy-walk.html"))
    assert "The caption of the step." in tour and "def take" in tour


def test_every_internal_link_resolves(toy_site: Path, Page):
    broken = []
    for path in toy_site.rglob("*.html"):
        page = Page(path.read_text(encoding="utf-8"))
        for link in page.links:
            parts = urlsplit(link)
            if parts.scheme or link.startswith("//") or not (parts.path or parts.fragment):
                continue
            if "__pwned" in unquote(link):
                continue  # a hostile note's bad link, left as an inert same-page fragment (test_hostile.py)
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if not target.exists():
                broken.append(f"{path.relative_to(toy_site)} -> {link}")
            elif parts.fragment and target.suffix == ".html" and "source/" in str(target):
                if unquote(parts.fragment) not in Page(target.read_text(encoding="utf-8")).ids:
                    broken.append(f"{path.relative_to(toy_site)} -> {link} (no such id)")
    assert not broken, broken[:20]


def test_symbols_script_lists_every_symbol(toy_site: Path):
    text = read(toy_site, "_static/vm-symbols.js")
    rows = dict(json.loads(text.removeprefix("window.VM_SYMBOLS=").rstrip().rstrip(";")))
    assert "Pool.take_one" in rows["vllm/engine/toy.py"] and "toy::add_kernel" in rows["csrc/kernels.cu"]


def test_runtime_figures(fresh_repo: Path):
    summary = fresh_repo / "tracepoints" / "reference" / "summary.json"
    summary.parent.mkdir(parents=True)
    summary.write_text(json.dumps({"vllm/engine/toy.py::Pool.take": {"calls": 42, "total_ms": 8.4, "p50_ms": 0.2,
                                                                     "p99_ms": 0.9}}))
    out = fresh_repo / "_build" / "site"
    assert build(fresh_repo, out, quiet=True) == 0
    html = read(out, TOY_PAGE)
    assert "42 calls · p50 0.2 ms · p99 0.9 ms" in html


def test_incremental_rebuild_writes_only_what_a_note_edit_touches(fresh_repo: Path):
    out = fresh_repo / "_build" / "site"
    assert build(fresh_repo, out, quiet=True) == 0
    helpers_page, toy_page = out / "source/vllm/engine/helpers.py.html", out / TOY_PAGE
    before = helpers_page.stat().st_mtime_ns
    time.sleep(0.05)
    note = fresh_repo / "annotations/vllm/engine/toy.py/Pool.take.md"
    note.write_text(note.read_text().replace("Hands out", "Gives out"))
    assert build(fresh_repo, out, quiet=True) == 0
    assert "Gives out the <strong>first</strong>" in toy_page.read_text()
    assert helpers_page.stat().st_mtime_ns == before


def test_unresolvable_anchor_fails_the_build_until_fixed(fresh_repo: Path):
    guide = fresh_repo / "course/phase-01-toy/00-guide.md"
    guide.write_text("# Guide\n\nSee {anchor}`vllm/engine/toy.py::Pool.nope`.\n")
    out = fresh_repo / "_build" / "site"
    assert build(fresh_repo, out, quiet=True) == 1
    assert build(fresh_repo, out, quiet=True) == 1  # an incremental build does not forget it
    guide.write_text("# Guide\n\nSee {anchor}`vllm/engine/toy.py::Pool.take`.\n")
    assert build(fresh_repo, out, quiet=True) == 0


def test_only_restricts_source_pages(fresh_repo: Path):
    out = fresh_repo / "_build" / "site"
    assert build(fresh_repo, out, only=["csrc"], quiet=True) == 0
    assert (out / "source/csrc/kernels.cu.html").exists() and not (out / TOY_PAGE).exists()


def test_serve_refuses_without_a_site(tmp_path: Path):
    import argparse

    import pytest

    from vmastery.errors import VmasteryError
    from vmastery.site import serve

    args = argparse.Namespace(root=tmp_path, out=None, port=0, edit=False)
    with pytest.raises(VmasteryError, match="run `vmastery site` first"):
        serve.run(args)


def test_drifted_note_shows_the_diff_of_the_last_reanchor_run(fresh_repo: Path, tmp_path: Path):
    """Only a note written against the report's old code gets its diff, escaped like any other text."""
    diff = ("--- vllm/engine/toy.py::build_pool\n+++ vllm/engine/toy.py::build_pool\n@@ -1,2 +1,2 @@\n"
            "-    return Pool(n)\n+    return Pool(n)  # <script>alert(1)</script>\n")
    report = {"from": "0.0.1", "to": "0.0.2", "items": [
        {"kind": "note", "anchor": "vllm/engine/toy.py::build_pool", "new_anchor": "vllm/engine/toy.py::build_pool",
         "state": "changed", "old_fingerprint": "0123456789ab", "diff": diff},
        {"kind": "note", "anchor": "vllm/engine/toy.py::Pool.take", "state": "changed",
         "old_fingerprint": "ffffffffffff", "diff": "-a\n+b\n"}]}
    (fresh_repo / ".cache" / "reanchor").mkdir(parents=True, exist_ok=True)
    (fresh_repo / ".cache" / "reanchor" / "latest.json").write_text(json.dumps(report))
    out = tmp_path / "site"
    assert build(fresh_repo, out, quiet=True) == 0
    html = read(out, TOY_PAGE)
    notes = dict(re.findall(r'<aside class="vm-note" data-anchor="([^"]+)">(.*?)</aside>', html, re.S))
    shown = notes["vllm/engine/toy.py::build_pool"]
    assert "What changed in the code (vLLM 0.0.1 → 0.0.2)" in shown
    assert '<span class="vm-add">+    return Pool(n)  # &lt;script&gt;alert(1)&lt;/script&gt;</span>' in shown
    assert "<script>alert" not in html
    assert all("vm-drift-diff" not in body for anchor, body in notes.items() if anchor != "vllm/engine/toy.py::build_pool")
