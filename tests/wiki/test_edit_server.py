"""The wiki edit server under bad input: traversal, forgery, oversize, invalid notes, hostile text, races."""
from __future__ import annotations

import http.client
import json
import threading
from html.parser import HTMLParser
from pathlib import Path

import pytest

from vmastery.annotations import note_path
from vmastery.symbols import index_for
from vmastery.wiki import MAX_BODY, Wiki, digest, make_server, render_untrusted

ROOT = Path(__file__).resolve().parents[2]
ANCHOR = "vllm/v1/core/block_pool.py::BlockPool.touch"


@pytest.fixture(scope="module")
def index():
    return index_for(ROOT, progress=False)


@pytest.fixture
def server(tmp_path: Path, index):
    (tmp_path / "upstream").symlink_to(ROOT / "upstream")
    (tmp_path / ".cache").symlink_to(ROOT / ".cache")
    (tmp_path / "annotations").mkdir()
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<p>site</p>")
    rebuilt: list[str] = []
    wiki = Wiki(tmp_path, index, tmp_path / "site", rebuild=lambda rel: rebuilt.append(rel) or "/index.html")
    httpd = make_server(wiki)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield wiki, httpd.server_address[1], rebuilt
    httpd.shutdown()


def call(port: int, method: str, path: str, body: dict | bytes | None = None, token: str | None = None,
         origin: str | None = "self", host: str | None = None) -> tuple[int, dict | str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Host": host or f"127.0.0.1:{port}", "Content-Type": "application/json"}
    if origin:
        headers["Origin"] = f"http://127.0.0.1:{port}" if origin == "self" else origin
    if token:
        headers["X-Wiki-Token"] = token
    data = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else None
    connection.request(method, path, body=data, headers=headers)
    response = connection.getresponse()
    raw = response.read().decode()
    try:
        return response.status, json.loads(raw)
    except ValueError:
        return response.status, raw


def note_text(index, body: str = "Marks blocks as in use again.\n") -> str:
    return f"---\nanchor: {ANCHOR}\nfingerprint: {index.get(ANCHOR).fingerprint}\n---\n{body}"


def test_edit_page_is_prefilled_with_the_template_and_a_save_round_trips(server, index) -> None:
    wiki, port, rebuilt = server
    status, page = call(port, "GET", f"/edit?anchor={ANCHOR}")
    assert status == 200 and f"anchor: {ANCHOR}" in page and wiki.token in page
    status, body = call(port, "POST", "/save", {"path": note_path(ANCHOR), "text": note_text(index),
                                                  "base": "new"}, wiki.token)
    assert status == 200 and body["page"] == "/index.html" and rebuilt == [note_path(ANCHOR)]
    assert (wiki.root / note_path(ANCHOR)).read_text() == note_text(index)


@pytest.mark.parametrize("path", ["annotations/../pyproject.toml", "annotations/../../escape.md",
                                  "/etc/passwd.md", "annotations/x.py"])
def test_paths_outside_annotations_are_refused(server, index, path: str) -> None:
    wiki, port, _ = server
    status, body = call(port, "POST", "/save", {"path": path, "text": note_text(index), "base": "new"}, wiki.token)
    assert status == 403 and "only Markdown files under annotations/" in body["problems"][0]
    assert not (wiki.root.parent / "escape.md").exists()


def test_bad_anchor_in_the_edit_url_explains_itself(server) -> None:
    _, port, _ = server
    status, page = call(port, "GET", "/edit?anchor=vllm/v1/core/block_pool.py::Nope")
    assert status == 400 and "is not defined in vllm/v1/core/block_pool.py" in page


@pytest.mark.parametrize("origin, token, host", [
    ("http://evil.example", "ok", None), (None, "ok", None), ("self", None, None), ("self", "wrong", None),
    ("self", "ok", "evil.example"),
])
def test_forged_requests_are_refused(server, index, origin, token, host) -> None:
    wiki, port, _ = server
    token = wiki.token if token == "ok" else token
    status, _ = call(port, "POST", "/save", {"path": note_path(ANCHOR), "text": note_text(index), "base": "new"},
                     token, origin=origin, host=host)
    assert status == 403 and not (wiki.root / note_path(ANCHOR)).exists()


def test_oversized_and_malformed_bodies(server) -> None:
    wiki, port, _ = server
    status, body = call(port, "POST", "/save", b"x" * (MAX_BODY + 1), wiki.token)
    assert status == 413
    status, body = call(port, "POST", "/save", b"{not json", wiki.token)
    assert status == 400 and "malformed" in body["problems"][0]


def test_invalid_front_matter_and_raw_html_are_refused_with_the_check_message(server, index) -> None:
    wiki, port, _ = server
    bad = f"---\nanchor: {ANCHOR}\ncolour: red\n---\nText\n"
    status, body = call(port, "POST", "/save", {"path": note_path(ANCHOR), "text": bad, "base": "new"}, wiki.token)
    assert status == 422 and any("unknown key 'colour'" in p for p in body["problems"])
    hostile = note_text(index, "<script>alert(1)</script>\n")
    status, body = call(port, "POST", "/save", {"path": note_path(ANCHOR), "text": hostile, "base": "new"}, wiki.token)
    assert status == 422 and any("raw-html" in p for p in body["problems"])
    assert not (wiki.root / note_path(ANCHOR)).exists()


@pytest.mark.parametrize("hostile", [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[click](javascript:alert(1))",
    "[x](JaVaScRiPt&#58;alert(1))", "&lt;script&gt;alert(1)&lt;/script&gt;", "<a href='data:text/html,<script>'>x</a>",
])
def test_preview_never_emits_script_handlers_or_script_urls(hostile: str) -> None:
    tags: list[tuple[str, list]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.append((tag, attrs))

    Collect().feed(render_untrusted(hostile))
    for tag, attrs in tags:
        assert tag not in {"script", "img", "iframe", "object", "embed", "svg"}
        for name, value in attrs:
            assert not name.startswith("on")
            assert not (value or "").strip().lower().startswith(("javascript:", "data:"))


def test_concurrent_saves_never_lose_an_update(server, index) -> None:
    wiki, port, _ = server
    texts = [note_text(index, f"Version {i}.\n") for i in range(6)]
    results: list[int] = []
    threads = [threading.Thread(target=lambda t=t: results.append(call(
        port, "POST", "/save", {"path": note_path(ANCHOR), "text": t, "base": "new"}, wiki.token)[0]))
        for t in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200] + [409] * 5
    saved = (wiki.root / note_path(ANCHOR)).read_text()
    assert saved in texts
    # A save from the winner's base goes through; a stale base is refused.
    status, _ = call(port, "POST", "/save", {"path": note_path(ANCHOR), "text": texts[0] + "More.\n",
                                               "base": digest(saved)}, wiki.token)
    assert status == 200
    status, body = call(port, "POST", "/save", {"path": note_path(ANCHOR), "text": texts[1],
                                                  "base": digest(saved)}, wiki.token)
    assert status == 409 and "nothing was written" in body["problems"][0]


def test_drift_is_saved_with_a_warning_as_check_does(server, index) -> None:
    wiki, port, _ = server
    stale = note_text(index).replace(index.get(ANCHOR).fingerprint, "0123456789ab")
    status, body = call(port, "POST", "/save", {"path": note_path(ANCHOR), "text": stale, "base": "new"}, wiki.token)
    assert status == 200 and any("drift" in w for w in body["warnings"])


def test_the_rebuilt_page_of_a_note_is_its_symbol_on_its_source_page(tmp_path: Path, index) -> None:
    from vmastery.wiki import page_of

    rel = note_path(ANCHOR)
    (tmp_path / rel).parent.mkdir(parents=True)
    (tmp_path / rel).write_text(note_text(index))
    assert page_of(tmp_path, rel) == "/source/vllm/v1/core/block_pool.py.html#BlockPool.touch"
    assert page_of(tmp_path, "annotations/tours/kv-walk.md") == "/annotations/tours/kv-walk.html"
    (tmp_path / rel).write_text("no front matter\n")
    assert page_of(tmp_path, rel) is None
