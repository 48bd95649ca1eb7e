"""Live code in tours links its names like the source pages do, with links rebased to the page."""
from __future__ import annotations

import re
from pathlib import Path

from vmastery.site.livecode import LiveCode, classes_for
from vmastery.symbols import index_for

ROOT = Path(__file__).resolve().parents[2]


def test_tagged_block_is_recoloured_with_links_relative_to_the_page() -> None:
    index = index_for(ROOT, progress=False)
    symbol = index.get("vllm/v1/core/block_pool.py::BlockPool.get_new_blocks")
    classes = " ".join([*classes_for(symbol.path, symbol.start, symbol.end), "highlight-python", "notranslate"])
    body = f'<p>x</p><div class="{classes}"><div class="highlight"><pre><span></span>plain</pre></div></div>'
    out = LiveCode(index, []).link("annotations/tours/t", body)
    assert "plain" not in out
    numbers = [int(n) for n in re.findall(r'<span class="linenos">(\d+)</span>', out)]
    assert numbers == list(range(symbol.start, symbol.end + 1))
    hrefs = re.findall(r'href="([^"]*)"', out)
    assert "../../source/vllm/v1/core/block_pool.py.html#BlockPool.get_num_free_blocks" in hrefs
    assert all(h.startswith("../../source/") for h in hrefs)


def test_untagged_and_unknown_blocks_are_left_alone() -> None:
    index = index_for(ROOT, progress=False)
    body = '<div class="vm-live-code vm-f-000000000000 vm-r-1-2"><div class="highlight"><pre>keep</pre></div></div>'
    assert LiveCode(index, []).link("x", body) == body
    classes = " ".join(classes_for("vllm/v1/core/block_pool.py", 1, 2))
    tagged = f'<div class="{classes}"><div class="highlight"><pre>keep</pre></div></div>'
    only = LiveCode(index, ["vllm/v1/request.py"])
    assert only.link("x", tagged) == tagged  # a file outside an --only build keeps its plain colouring
