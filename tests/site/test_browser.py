"""The site in real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

Screenshots of a wide and a narrow viewport go to test-artifacts/ (git-ignored).
"""
from __future__ import annotations

from pathlib import Path

import pytest

TOY_PAGE = "source/vllm/engine/toy.py.html"

pytestmark = pytest.mark.browser




def open_page(browser, url: str, width: int = 1400, height: int = 900):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.vm_dialogs = []
    page.vm_errors = []
    page.on("dialog", lambda dialog: (page.vm_dialogs.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: page.vm_errors.append(str(error)))
    page.goto(url, wait_until="load")
    return page


def in_viewport(page, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    return box is not None and 0 <= box["y"] < page.viewport_size["height"]


def test_note_beside_its_symbol_when_wide_and_above_it_when_narrow(browser, toy_site: Path, artifacts):
    url = (toy_site / TOY_PAGE).as_uri() + "#Pool.take"
    note_selector = 'aside[data-anchor="vllm/engine/toy.py::Pool.take"]'
    wide = open_page(browser, url)
    wide.evaluate("window.scrollTo(0, 0)")  # measure in document flow, before the sticky note moves
    code, note = wide.locator('[id="Pool.take"]').bounding_box(), wide.locator(note_selector).bounding_box()
    assert note["x"] > code["x"] + code["width"], "the note is to the right of the code"
    assert abs(note["y"] - code["y"]) < 40, "the note starts level with its symbol"
    assert wide.locator(".vm-linenote").first.is_visible()
    wide.locator('[id="Pool.take"]').scroll_into_view_if_needed()
    wide.screenshot(path=str(artifacts / "site-wide.png"))
    assert not wide.vm_errors
    narrow = open_page(browser, url, width=420, height=900)
    narrow.evaluate("window.scrollTo(0, 0)")
    code, note = narrow.locator('[id="Pool.take"]').bounding_box(), narrow.locator(note_selector).bounding_box()
    assert note["y"] + note["height"] <= code["y"] + 1, "on a narrow screen the note comes before the code"
    assert note["x"] < code["x"] + code["width"]
    narrow.screenshot(path=str(artifacts / "site-narrow.png"))


def test_a_name_links_to_its_definition_in_another_file(browser, toy_site: Path):
    page = open_page(browser, (toy_site / TOY_PAGE).as_uri())
    page.locator('a[href="helpers.py.html#make_helper"]').first.click()
    page.wait_for_url("**/helpers.py.html#make_helper")
    assert in_viewport(page, '[id="make_helper"]')


def test_jump_box_lands_on_the_symbol(browser, toy_site: Path):
    page = open_page(browser, (toy_site / "index.html").as_uri())
    page.fill("#vm-jump-input", "take_one")
    page.wait_for_selector("#vm-jump-results li")
    assert "Pool.take_one" in page.inner_text("#vm-jump-results")
    page.press("#vm-jump-input", "Enter")
    page.wait_for_url("**/source/vllm/engine/toy.py.html#Pool.take_one")
    assert in_viewport(page, '[id="Pool.take_one"]')


def test_definition_panel_lists_references_and_discussions(browser, toy_site: Path):
    page = open_page(browser, (toy_site / TOY_PAGE).as_uri())
    page.locator('[id="Pool.take"]').click()
    panel = page.locator(".vm-panel")
    panel.wait_for()
    text = panel.inner_text()
    assert "Discussed in (2)" in text and "The toy guide" in text
    assert "Referenced by" in text and "toy.py:" in text


def test_search_finds_prose_and_symbols(browser, toy_site: Path):
    page = open_page(browser, (toy_site / "search.html").as_uri() + "?q=pool")
    page.wait_for_selector(".vm-symbol-hits li")
    assert "Pool.take" in page.inner_text(".vm-symbol-hits")
    page.wait_for_selector("#search-results li", timeout=10_000)
    assert "toy" in page.inner_text("#search-results").lower()


def test_hostile_notes_do_not_execute(browser, toy_site: Path):
    pages = sorted((toy_site / "annotations/vllm/engine/toy.py").glob("target_*.html"))
    pages.append(toy_site / TOY_PAGE)
    for path in pages:
        page = open_page(browser, path.as_uri())
        for element in page.locator(".vm-note, article").all()[:20]:
            element.hover(timeout=2_000, trial=False) if element.is_visible() else None
        page.mouse.click(5, 5)
        page.wait_for_timeout(200)
        assert page.evaluate("typeof window.__pwned") == "undefined", path.name
        assert not page.vm_dialogs, (path.name, page.vm_dialogs)
        page.close()
