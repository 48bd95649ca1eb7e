"""The wiki side of the site: edit links, attribution from git, Recent changes, Coverage, and that
incremental builds keep all of them current."""
from __future__ import annotations

import json
import re
import subprocess
import textwrap
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from vmastery.annotations import note_path, note_template
from vmastery.site.cli import build
from vmastery.symbols import index_for

TOY_PAGE = "source/vllm/engine/toy.py.html"
REPO = "https://git.example/o/r"


def read(out: Path, rel: str) -> str:
    return (out / rel).read_text(encoding="utf-8")


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def links(html: str, css: str) -> list[tuple[str, str]]:
    """(href, label) of every <a> whose class list holds `css`, entities decoded."""
    import html as h
    return [(h.unescape(href), label) for href, label in
            re.findall(rf'<a class="[^"]*\b{css}\b[^"]*" href="([^"]*)">([^<]*)</a>', html)]


def git(root: Path, *args: str, author: str = "Ann") -> None:
    subprocess.run(["git", "-C", str(root), "-c", f"user.name={author}", "-c", f"user.email={author.lower()}@example.org",
                    "-c", "commit.gpgsign=false", *args], check=True, capture_output=True)


def test_host_links_edit_notes_and_prefill_new_ones(fresh_repo: Path):
    out = fresh_repo / "_build" / "site"
    assert build(fresh_repo, out, quiet=True, repo_url=REPO + "/", branch="dev") == 0
    html, index = read(out, TOY_PAGE), index_for(fresh_repo, progress=False)
    edits = links(html, "vm-edit")
    assert (f"{REPO}/edit/dev/annotations/vllm/engine/toy.py/Pool.take.md", "Edit this note") in edits
    annotated = {"vllm/engine/toy.py::Pool.take", "vllm/engine/toy.py::build_pool"}
    new = links(html, "vm-annotate")
    assert len(new) == len(index.by_file["vllm/engine/toy.py"]) - len(annotated)  # every other symbol
    for href, label in new:
        url = urlsplit(href)
        assert label == "Annotate this symbol" and f"{url.scheme}://{url.netloc}{url.path}" == f"{REPO}/new/dev"
        query = parse_qs(url.query)
        anchor = re.search(r"^anchor: (.+)$", query["value"][0], re.M).group(1)
        assert anchor not in annotated
        assert query["filename"] == [note_path(anchor)]
        assert query["value"] == [note_template(anchor, index.get(anchor).fingerprint)]
    tour = read(out, "annotations/tours/toy-walk.html")
    assert (f"{REPO}/edit/dev/annotations/tours/toy-walk.md", "Edit this tour") in links(tour, "vm-edit")
    note_page = read(out, "annotations/vllm/engine/toy.py/Pool.take.html")
    assert (f"{REPO}/edit/dev/annotations/vllm/engine/toy.py/Pool.take.md", "Edit this note") in links(note_page, "vm-edit")


def test_no_repository_no_links_and_wiki_mode_links_to_the_local_editor(fresh_repo: Path):
    out = fresh_repo / "_build" / "site"
    assert build(fresh_repo, out, quiet=True) == 0
    for rel in (TOY_PAGE, "annotations/tours/toy-walk.html", "annotations/vllm/engine/toy.py/Pool.take.html",
                "coverage.html"):
        assert not links(read(out, rel), "vm-edit") and not links(read(out, rel), "vm-annotate"), rel
    wiki = fresh_repo / "_build" / "wiki"
    assert build(fresh_repo, wiki, quiet=True, wiki=True) == 0
    html = read(wiki, TOY_PAGE)
    assert ("/edit?anchor=vllm/engine/toy.py::Pool.take", "Edit this note") in links(html, "vm-edit")
    assert ("/edit?anchor=vllm/engine/toy.py::Pool.take_one", "Annotate this symbol") in links(html, "vm-annotate")
    assert ("/edit?tour=toy-walk", "Edit this tour") in links(read(wiki, "annotations/tours/toy-walk.html"), "vm-edit")


def test_attribution_recent_changes_and_incremental_history(fresh_repo: Path):
    git(fresh_repo, "init", "-q", "-b", "main")
    git(fresh_repo, "add", "-A")
    git(fresh_repo, "commit", "-q", "-m", "first notes", author="Ann")
    note = fresh_repo / "annotations/vllm/engine/toy.py/Pool.take.md"
    note.write_text(note.read_text().replace("Hands out", "Gives out"))
    git(fresh_repo, "commit", "-q", "-am", "reword the take note", author="Bo")
    out = fresh_repo / "_build" / "site"
    assert build(fresh_repo, out, quiet=True) == 0
    aside = re.search(r'data-anchor="vllm/engine/toy.py::Pool.take">(.*?)</aside>', read(out, TOY_PAGE), re.S).group(1)
    assert re.search(r"by (Ann, Bo|Bo, Ann) · last changed \d{4}-\d\d-\d\d", text_of(aside))
    assert 'title="' in aside and "reword the take note" in aside  # the last commit, on hover
    recent = read(out, "recent.html")
    assert text_of(recent).index("reword the take note") < text_of(recent).index("first notes")  # newest first
    assert 'href="annotations/vllm/engine/toy.py/Pool.take.html"' in recent
    assert 'href="source/vllm/engine/toy.py.html#Pool.take"' in recent

    # History changes on commit only: an uncommitted edit keeps the old attribution ...
    helpers = out / "source/vllm/engine/helpers.py.html"
    before = helpers.stat().st_mtime_ns
    note.write_text(note.read_text().replace("Gives out", "Yields"))
    assert build(fresh_repo, out, quiet=True) == 0
    assert "Yields" in read(out, TOY_PAGE) and "Cy" not in text_of(read(out, TOY_PAGE))
    # ... and committing it, with no change to the text, still updates the note's pages.
    git(fresh_repo, "commit", "-q", "-am", "third pass", author="Cy")
    assert build(fresh_repo, out, quiet=True) == 0
    for rel in (TOY_PAGE, "annotations/vllm/engine/toy.py/Pool.take.html"):
        assert "Cy" in text_of(read(out, rel)) and "last changed" in text_of(read(out, rel)), rel
    assert "third pass" in read(out, "recent.html")
    assert helpers.stat().st_mtime_ns == before  # pages without that note were not written again
    tour = text_of(read(out, "annotations/tours/toy-walk.html"))
    assert "by Ann · last changed" in tour


def test_tour_step_links_follow_new_notes_on_incremental_builds(fresh_repo: Path):
    (fresh_repo / "annotations/tours/second.md").write_text(textwrap.dedent("""\
        ---
        tour: second
        title: Second
        ---
        ```{step} vllm/engine/toy.py::Pool.take_one
        ```
        """))
    out = fresh_repo / "_build" / "wiki"
    assert build(fresh_repo, out, quiet=True, wiki=True) == 0
    assert links(read(out, "annotations/tours/second.html"), "vm-edit") == [
        ("/edit?tour=second", "Edit this tour"), ("/edit?anchor=vllm/engine/toy.py::Pool.take_one", "Annotate this symbol")]
    anchor = "vllm/engine/toy.py::Pool.take_one"
    path = fresh_repo / note_path(anchor)
    path.write_text(note_template(anchor, index_for(fresh_repo, progress=False).get(anchor).fingerprint)
                    .replace("What is this symbol for", "Takes one id. What"))
    assert build(fresh_repo, out, quiet=True, wiki=True) == 0
    assert ("/edit?anchor=vllm/engine/toy.py::Pool.take_one", "Edit this note") in links(
        read(out, "annotations/tours/second.html"), "vm-edit")


def test_coverage_counts_and_wanted_pages(toy_site: Path):
    html = read(toy_site, "coverage.html")
    index = index_for(toy_site.parent.parent, progress=False)
    total = sum(len(v) for v in index.by_file.values())
    annotated = 7  # Pool.take, build_pool and the five hostile notes on target_a..e
    assert f"{annotated:,} of {total:,} symbols have a note" in text_of(html)
    engine = re.search(r'<tr><td><a href="source/vllm/engine/index.html">vllm/engine/</a></td>(.*?)</tr>', html, re.S)
    engine_total = sum(len(index.by_file[f]) for f in index.by_file if f.rsplit("/", 1)[0] == "vllm/engine")
    assert f"<td>{engine_total:,}</td>" in engine.group(1) and "<summary>7</summary>" in engine.group(1)
    wanted = re.search(r'<table class="vm-listing vm-wanted">(.*?)</table>', html, re.S).group(1)
    rows = re.findall(r'<tr><td><a href="([^"]+)">.*?</td><td>(\d+)</td><td>(\d+)</td>', wanted, re.S)
    assert rows, "something is wanted"
    named = [href.split("#")[1] for href, *_ in rows]
    assert "Pool.take" not in named and "build_pool" not in named  # annotated: never wanted
    # the counts are the site's own: "Referenced by" on the source page, "discussed in" from prose
    data = json.loads(re.search(r'id="vm-data">(.*?)</script>', read(toy_site, "source/vllm/engine/helpers.py.html"),
                                re.S).group(1))
    row = next(r for r in rows if r[0] == "source/vllm/engine/helpers.py.html#make_helper")
    assert int(row[1]) == len(data["refs"]["make_helper"]) and row[2] == "0"
    kernel = next(r for r in rows if r[0].endswith("#toy::add_kernel"))
    assert kernel[2] == "1"  # cited by the course page
    ranks = [(int(r[2]), int(r[1])) for r in rows]  # cited in, then referenced by
    assert ranks == sorted(ranks, reverse=True) and rows[0] == kernel
    assert "No history" in read(toy_site, "recent.html")  # the toy tree is not a git checkout
