"""The wiki mode in real headless Chromium: edit a note, preview, save, see it on the rebuilt page.

The toy tree is built in wiki mode and served by `vmastery.wiki` exactly as `vmastery serve --edit`
does (`serve.wiki_server`); saves rebuild the site for real. Screenshots go to test-artifacts/.
"""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from vmastery.annotations import PLACEHOLDER, note_path, note_template
from vmastery.symbols import index_for

TOY_PAGE = "source/vllm/engine/toy.py.html"

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright Python package")
expect = sync_api.expect


@pytest.fixture(scope="module")
def wiki(tmp_path_factory, toy_repo_maker):
    """(repository root, base URL) of the toy tree served in wiki mode."""
    from vmastery.site.serve import wiki_server

    root = toy_repo_maker(tmp_path_factory.mktemp("wiki"), hostile=False)
    server = wiki_server(root, root / "_build" / "wiki", port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()




def new_page(browser):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.vm_errors = []
    page.on("pageerror", lambda error: page.vm_errors.append(str(error)))
    return page


def test_edit_preview_save_and_see_the_rebuilt_page(browser, wiki, artifacts):
    root, base = wiki
    page = new_page(browser)
    page.goto(f"{base}/{TOY_PAGE}#Pool.take")
    note = page.locator('aside[data-anchor="vllm/engine/toy.py::Pool.take"]')
    assert "Hands out the first ids" in note.inner_text()
    note.get_by_role("link", name="Edit this note").click()
    page.wait_for_url("**/edit?anchor=vllm/engine/toy.py::Pool.take")
    text = page.locator("#text")
    assert "Hands out the **first** ids" in text.input_value()
    expect(page.locator("#preview")).to_contain_text("Hands out the first ids")  # the live preview

    text.fill(text.input_value().replace("Hands out the **first** ids", "Lends the *oldest* free ids"))
    expect(page.locator("#preview")).to_contain_text("Lends the oldest free ids")  # updates as you type
    assert page.locator("#preview em").inner_text() == "oldest"  # the preview renders Markdown
    page.screenshot(path=str(artifacts / "wiki-editor.png"))

    page.locator("#save").click()
    rebuilt = page.locator("#rebuilt")
    rebuilt.wait_for(timeout=60_000)
    assert "Saved." in page.locator("#status").inner_text()
    assert "Lends the *oldest* free ids" in (root / note_path("vllm/engine/toy.py::Pool.take")).read_text()
    rebuilt.click()
    page.wait_for_url(f"**/{TOY_PAGE}#Pool.take")
    note = page.locator('aside[data-anchor="vllm/engine/toy.py::Pool.take"]')
    assert "Lends the oldest free ids" in note.inner_text()
    assert note.locator("em").inner_text() == "oldest"
    page.screenshot(path=str(artifacts / "wiki-rebuilt.png"))
    assert not page.vm_errors


def test_annotate_opens_the_template_and_refuses_it_unchanged(browser, wiki, artifacts):
    root, base = wiki
    anchor = "vllm/engine/toy.py::Pool.take_one"
    page = new_page(browser)
    page.goto(f"{base}/{TOY_PAGE}#Pool.take_one")
    page.locator(f'[id="L{index_for(root, progress=False).get(anchor).line}"]').hover()
    page.locator(f'a.vm-annotate[href="/edit?anchor={anchor}"]').click()
    page.wait_for_url(f"**/edit?anchor={anchor}")
    template = note_template(anchor, index_for(root, progress=False).get(anchor).fingerprint)
    assert page.locator("#text").input_value() == template
    page.screenshot(path=str(artifacts / "wiki-annotate.png"))

    page.locator("#save").click()  # the template as it is: `check` refuses it, nothing is written
    page.locator("#problems li").first.wait_for(timeout=30_000)
    assert "Not saved (422)" in page.locator("#status").inner_text()
    assert not (root / note_path(anchor)).exists()

    page.locator("#text").fill(template.replace(PLACEHOLDER, "The one-id shortcut the scheduler never needs."))
    page.locator("#save").click()
    page.locator("#rebuilt").wait_for(timeout=60_000)
    assert page.locator("#problems li").count() == 0
    page.locator("#rebuilt").click()
    page.wait_for_url(f"**/{TOY_PAGE}#Pool.take_one")
    note = page.locator(f'aside[data-anchor="{anchor}"]')
    assert "The one-id shortcut" in note.inner_text()
    assert note.get_by_role("link", name="Edit this note").get_attribute("href") == f"/edit?anchor={anchor}"
    assert page.locator(f'a.vm-annotate[href="/edit?anchor={anchor}"]').count() == 0
