"""The command line end to end, and the release fetcher's refusal of an unverified download."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from vmastery.cli import main
from vmastery.errors import VmasteryError
from vmastery.reanchor import fetch


def test_cli_dry_run_then_apply(repo: Path, tmp_path: Path):
    base = tmp_path / "rep"
    args = ["--root", str(repo), "reanchor", "--to-tree", str(repo.parent / "new"), "--report", str(base)]
    assert main(args) == 1  # an orphan exists: exit 1 says "review the report"
    data = json.loads(base.with_name("rep.json").read_text())
    assert data["invariant"]["orphaned"] >= 1 and not (repo / "annotations/.anchored-at.json").exists()
    assert main([*args, "--apply"]) == 1  # applied; the orphan is still reported
    assert (repo / "annotations/.anchored-at.json").exists()
    after = {p: p.read_text() for p in repo.rglob("*.md")}
    assert main([*args, "--apply", "--no-code"]) == 1  # nothing to move; the lost window quote is still reported
    assert {p: p.read_text() for p in repo.rglob("*.md")} == after
    assert json.loads(base.with_name("rep.json").read_text())["edits"] == []
    assert "old_code" not in json.loads(base.with_name("rep.json").read_text())["items"][0]


def test_fetch_refuses_a_hash_mismatch(tmp_path: Path, monkeypatch):
    (tmp_path / "UPSTREAM_PIN.md").write_text("---\nversion: 1\ncommit: a\ncommit_id: a\nsdist: x\n"
                                              "sdist_sha256: 0\nindex_url: https://example.invalid/simple\n---\n")
    listing = [{"filename": "vllm-9.9.9.tar.gz", "url": "https://example.invalid/v.tar.gz",
                "hashes": {"sha256": "0" * 64}}]
    monkeypatch.setattr(fetch, "index_files", lambda url: listing)
    def fake_download(url: str, dest: Path) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(b"not the release")

    monkeypatch.setattr(fetch, "download", fake_download)
    with pytest.raises(VmasteryError, match="sha256"):
        fetch.tree_for_version(tmp_path, "9.9.9")
    assert not (tmp_path / ".cache" / "vllm-9.9.9.tar.gz").exists()
    assert not (tmp_path / ".cache" / "trees" / "vllm-9.9.9").exists()


def test_newest_release_skips_prereleases_and_yanked(monkeypatch):
    listing = [{"filename": f"vllm-{v}.tar.gz", "url": "", "hashes": {}, "yanked": v == "0.40.0"}
               for v in ["0.9.2", "0.33.0", "0.34.0rc1", "0.40.0"]]
    monkeypatch.setattr(fetch, "index_files", lambda url: listing)
    assert fetch.newest_release("https://example.invalid/simple") == "0.33.0"


def test_releases_between_are_the_final_sdists_strictly_inside_oldest_first(monkeypatch):
    listing = [{"filename": f"vllm-{v}.tar.gz", "url": "", "hashes": {}, "yanked": v == "0.25.0"}
               for v in ["0.24.0", "0.22.1", "0.23.0", "0.25.0", "0.26.0rc1", "0.25.1", "0.10.0", "0.27.0"]]
    listing.append({"filename": "vllm-0.24.0-py3-none-any.whl", "url": "", "hashes": {}})
    monkeypatch.setattr(fetch, "index_files", lambda url: listing)
    assert fetch.releases_between("https://example.invalid/simple", "0.22.1", "0.27.0") == ["0.23.0", "0.24.0", "0.25.1"]


def test_cli_steps_through_the_releases_named_by_via(repo: Path, tmp_path: Path, monkeypatch):
    fetched = []
    monkeypatch.setattr(fetch, "tree_for_version", lambda root, v: fetched.append(v) or repo / "upstream")
    base = tmp_path / "rep"
    args = ["--root", str(repo), "reanchor", "--to-tree", str(repo.parent / "new"), "--report", str(base)]
    assert main([*args, "--via", "0.0.2, 0.0.3"]) == 1
    assert fetched == ["0.0.2", "0.0.3"]
    stepped = json.loads(base.with_name("rep.json").read_text())
    assert stepped["via"] == ["0.0.2", "0.0.3"]
    assert "Stepped through 2 releases between (0.0.2, 0.0.3)" in base.with_name("rep.md").read_text()
    assert main(args) == 1  # a local target tree: no releases to step through, compared directly
    direct = json.loads(base.with_name("rep.json").read_text())
    assert direct["via"] == [] and direct["counts"] == stepped["counts"]
