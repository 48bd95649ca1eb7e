"""A small synthetic repository (our own toy code standing in for upstream/) and a site built from it.

Most site tests build this tree instead of the real one: a build takes seconds, and the tests do not
depend on which course pages or notes exist today. `HOSTILE` notes come from `tests/site/hostile/`.
"""
from __future__ import annotations

import shutil
from html.parser import HTMLParser
import textwrap
from pathlib import Path

import pytest

HERE = Path(__file__).parent
TOY = {
    "vllm/__init__.py": "",
    "vllm/engine/__init__.py": "from vllm.engine.helpers import Helper\n",
    "vllm/engine/helpers.py": '''\
        """Helpers the toy pool uses."""


        class Helper:
            """Counts things."""

            def count(self) -> int:
                return 1


        def make_helper() -> Helper:
            return Helper()


        def size(n: int) -> int:
            return max(n, 1)
        ''',
    "vllm/engine/toy.py": '''\
        """A toy module for the site tests."""
        from vllm.engine import Helper
        from vllm.engine.helpers import make_helper
        from . import helpers


        class Pool:
            """A pool of integer ids."""

            def __init__(self, n: int):
                self.free = list(range(n))
                self.helper: Helper = make_helper()

            def take(self, count: int) -> list[int]:
                taken = self.free[:count]
                del self.free[:count]
                return taken

            def take_one(self) -> int:
                return self.take(1)[0]


        def build_pool(n: int) -> Pool:
            text = """a string
        over two lines"""
            return Pool(helpers.size(n))


        def target_a(): return 1
        def target_b(): return 2
        def target_c(): return 3
        def target_d(): return 4
        def target_e(): return 5
        ''',
    "csrc/kernels.cu": '''\
        #include "ops.h"
        namespace toy {
        __global__ void add_kernel(float* out, const float* a, int n) {
          int i = blockIdx.x * blockDim.x + threadIdx.x;
          if (i < n) out[i] += a[i];
        }
        void launch(float* out, const float* a, int n) { add_kernel<<<1, n>>>(out, a, n); }
        }  // namespace toy
        ''',
    "csrc/ops.h": "#pragma once\nvoid launch(float* out, const float* a, int n);\n",
}
HOSTILE = {"script-tags": "target_a", "links": "target_b", "directives": "target_c", "entities": "target_d"}


def note(anchor: str, fingerprint: str, body: str, title: str | None = None) -> str:
    head = f"---\nanchor: {anchor}\nfingerprint: {fingerprint}\n" + (f"title: {title!r}\n" if title else "")
    return head + "tags: []\n---\n" + body


def make_repo(root: Path, hostile: bool = True) -> Path:
    """Write the toy tree, one good note (with a line note), a drifted note, a tour, a course page, hostile notes."""
    from vmastery.annotations import note_path
    from vmastery.symbols import index_for

    for rel, text in TOY.items():
        path = root / "upstream" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    index = index_for(root, progress=False)

    def write_note(anchor: str, body: str, fingerprint: str | None = None, title: str | None = None) -> None:
        path = root / note_path(anchor)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(note(anchor, fingerprint or index.get(anchor).fingerprint, body, title))

    write_note("vllm/engine/toy.py::Pool.take", textwrap.dedent("""\
        Hands out the **first** ids of the free list; see {anchor}`vllm/engine/toy.py::Pool.take_one`.

        ```{line} del self.free[:count]
        Removing in place keeps the list object shared with the caller.
        ```
        """))
    write_note("vllm/engine/toy.py::build_pool", "A note whose fingerprint is stale.\n", fingerprint="0123456789ab")
    for name, target in HOSTILE.items() if hostile else ():
        write_note(f"vllm/engine/toy.py::{target}", (HERE / "hostile" / f"{name}.md").read_text(),
                   title='<script>window.__pwned = "title"</script>' if name == "script-tags" else None)
    if hostile:  # oversized: 200 kB of inline markup, and nesting far past markdown-it's limit
        write_note("vllm/engine/toy.py::target_e", "Oversized.\n\n" + ("*a* [b](https://example.org) `c` " * 6000)
                   + "\n\n" + "> " * 400 + "deep\n")
    tours = root / "annotations" / "tours"
    tours.mkdir(parents=True, exist_ok=True)
    (tours / "toy-walk.md").write_text(textwrap.dedent("""\
        ---
        tour: toy-walk
        title: A walk through the toy pool
        ---
        Opening words.

        ## Taking ids

        ```{step} vllm/engine/toy.py::Pool.take
        The caption of the step.
        ```
        """))
    course = root / "course" / "phase-01-toy"
    course.mkdir(parents=True, exist_ok=True)
    (course / "00-guide.md").write_text(textwrap.dedent("""\
        # The toy guide

        The pool hands out ids in {anchor}`vllm/engine/toy.py::Pool.take`; the kernel is
        {anchor}`csrc/kernels.cu::toy::add_kernel`.

        ```{upstream} vllm/engine/toy.py::Pool.take
        :from: taken = self.free
        :to: return taken
        ```
        """))
    (root / "README.md").write_text("# Toy project\n\nA test repository.\n")
    return root


@pytest.fixture(scope="session")
def toy_site(tmp_path_factory) -> Path:
    """(repository root, site folder) of the toy tree, built once per test session."""
    from vmastery.site.cli import build

    root = make_repo(tmp_path_factory.mktemp("toy"))
    out = root / "_build" / "site"
    assert build(root, out, quiet=True) == 0
    return out


@pytest.fixture()
def fresh_repo(tmp_path) -> Path:
    return make_repo(tmp_path, hostile=False)


def copy_site(out: Path, dest: Path) -> Path:
    shutil.copytree(out, dest)
    return dest


class HtmlPage(HTMLParser):
    """Ids, links and scripts of one HTML file."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.scripts: list[tuple[dict, str]] = []
        self.handlers: list[tuple[str, str]] = []
        self.tags: set[str] = set()
        self._script: dict | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.add(tag)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        for name in ("href", "src", "action", "formaction"):
            if attrs.get(name) is not None:
                self.links.append(attrs[name])
        self.handlers += [(tag, name) for name in attrs if name.startswith("on")]
        if tag == "script":
            self._script = attrs
            self.scripts.append((attrs, ""))

    def handle_data(self, data):
        if self._script is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = None


@pytest.fixture(scope="session")
def Page():
    """The HTML reader of the site tests (a fixture: test modules here are not importable)."""
    return HtmlPage


@pytest.fixture(scope="session")
def toy_repo_maker():
    """`make_repo`, for module-scoped fixtures in test modules (they cannot import this file)."""
    return make_repo


CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium driven by Playwright; the test is skipped where either is missing."""
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium: apt-get install -y chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright Python package")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """test-artifacts/ (git-ignored): screenshots of the browser tests."""
    path = Path(__file__).resolve().parents[2] / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path
