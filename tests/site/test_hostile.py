"""The hostile-input corpus: notes full of script, handlers, bad links and entity tricks render inert."""
from __future__ import annotations

import re
from pathlib import Path

from vmastery.site import safety


EXECUTABLE_SCHEMES = re.compile(r"^\s*(javascript|vbscript|data|file):", re.I)
FORBIDDEN_TAGS = {"iframe", "object", "embed", "form", "input", "svg", "math", "base", "meta-refresh"}
THEME_SCRIPTS = ("document.body.dataset.theme",)  # furo's one inline line: reads a localStorage value


def hostile_pages(out: Path) -> list[Path]:
    pages = sorted((out / "annotations/vllm/engine/toy.py").glob("target_*.html"))
    assert len(pages) == 5
    return pages + [out / "source/vllm/engine/toy.py.html"]


def test_no_script_handler_or_dangerous_link_survives(toy_site: Path, Page):
    for path in hostile_pages(toy_site):
        text = path.read_text(encoding="utf-8")
        page = Page(text)
        article = Page(text[text.index("<article"):text.index("</article>")])  # the theme's own form stays
        assert not (article.tags & FORBIDDEN_TAGS), (path.name, article.tags & FORBIDDEN_TAGS)
        assert not page.handlers, (path.name, page.handlers)
        assert not [link for link in page.links if EXECUTABLE_SCHEMES.match(link)], path.name
        for attrs, text in page.scripts:
            if "src" in attrs:
                assert not EXECUTABLE_SCHEMES.match(attrs["src"]) and "_static/" in attrs["src"], attrs
            elif attrs.get("type") == "application/json":
                assert "</script" not in text.lower()
            else:
                assert any(marker in text for marker in THEME_SCRIPTS), (path.name, text[:200])
            assert "__pwned" not in text


def test_hostile_text_is_shown_not_executed(toy_site: Path):
    script = re.sub(r"<[^>]+>", "", (toy_site / "annotations/vllm/engine/toy.py/target_a.html").read_text())
    assert '&lt;script&gt;window.__pwned = "script-block"&lt;/script&gt;' in script  # visible as text
    assert "&lt;script&gt;window.__pwned = “title”&lt;/script&gt;" in script  # the hostile title too
    directives = (toy_site / "annotations/vllm/engine/toy.py/target_c.html").read_text()
    assert "root:" not in directives  # /etc/passwd was not included
    oversized = (toy_site / "annotations/vllm/engine/toy.py/target_e.html").stat().st_size
    assert oversized > 150_000  # rendered whole, not dropped


def test_clean_is_the_last_line_of_defence():
    dirty = ('<p onclick="x()">a</p><script>alert(1)</script><a href="javascript:alert(1)">b</a>'
             '<img src="data:text/html,x" onerror="y()"><a href="https://ok.example/p" class="c">ok</a>')
    cleaned = safety.clean(dirty)
    assert "onclick" not in cleaned and "<script" not in cleaned and "alert(1)" not in cleaned
    assert "javascript:" not in cleaned and "onerror" not in cleaned and "data:" not in cleaned
    assert '<a href="https://ok.example/p" class="c">ok</a>' in cleaned
