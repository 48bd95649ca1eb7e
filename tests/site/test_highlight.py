"""The highlighter alone, on tiny files: line counts, balanced markup, names resolved to definitions."""
from __future__ import annotations

import re
from pathlib import Path

from vmastery.site.highlight import Linker, highlight
from vmastery.symbols import index_for


def colour(tmp_path: Path, files: dict[str, bytes], path: str):
    for rel, data in files.items():
        target = tmp_path / "upstream" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    index = index_for(tmp_path, progress=False)
    return highlight(index, Linker(index), path, lambda target: f"{target}.html")


def balanced(line: str) -> bool:
    return len(re.findall(r"<(?:span|a)\b", line)) == len(re.findall(r"</(?:span|a)>", line))


def test_lines_match_upstream_and_markup_never_spans_lines(tmp_path: Path):
    source = b'x = """one\ntwo\r\nthree"""  # note\n\n\x0cdef f():\n    return "\xc3\xa9"'  # no final newline
    done = colour(tmp_path, {"vllm/__init__.py": b"", "vllm/m.py": source}, "vllm/m.py")
    assert len(done.lines) == source.count(b"\n") + 1
    assert all(balanced(line) for line in done.lines)
    assert re.sub(r"<[^>]+>", "", done.lines[1]) == "two"  # the \r of a CRLF line is dropped
    assert 'id="f"' in done.lines[4] and "é" in done.lines[5]  # a form feed does not end a line


def test_trailing_newline_does_not_add_a_line(tmp_path: Path):
    done = colour(tmp_path, {"vllm/__init__.py": b"", "vllm/m.py": b"a = 1\nb = 2\n"}, "vllm/m.py")
    assert len(done.lines) == 2


def test_imports_relative_imports_and_methods_resolve(tmp_path: Path):
    files = {
        "vllm/__init__.py": b"",
        "vllm/pkg/__init__.py": b"from .impl import Thing as Thing\n",
        "vllm/pkg/impl.py": b"class Thing:\n    def go(self):\n        return self.stop()\n\n    def stop(self):\n        return 0\n",
        "vllm/user.py": b"import vllm.pkg.impl as impl\nfrom vllm.pkg import Thing\nfrom .pkg import impl as again\n"
                        b"Thing().go()\nimpl.Thing\nagain.Thing\nunknown.Thing\n",
    }
    user = colour(tmp_path, files, "vllm/user.py")
    html = "\n".join(user.lines)
    assert 'href="vllm/pkg/impl.py.html#Thing"' in user.lines[3]  # re-exported through __init__.py
    assert 'href="vllm/pkg/impl.py.html#Thing"' in user.lines[4] and 'href="vllm/pkg/impl.py.html#Thing"' in user.lines[5]
    assert "href" not in user.lines[6]  # nothing is guessed for names it cannot trace
    assert ('vllm/pkg/impl.py::Thing' in {anchor for _, anchor in user.refs}) and "impl.py.html" in html
    impl = colour(tmp_path, files, "vllm/pkg/impl.py")
    assert 'href="#Thing.stop"' in impl.lines[2]  # self.stop() inside Thing
