"""Obtain the tree of any vLLM release to re-anchor onto, verified like the pin.

The pin's own fetcher (`vmastery.pin`) knows one version; re-anchoring needs any. So this module asks
the index's JSON simple API (PEP 691) for the release's sdist and its sha256, downloads it with the
pin's downloader, refuses it unless the hash matches what the index published, and unpacks it with
the pin's member checks into `.cache/trees/vllm-<version>/` through a temporary sibling folder, so a
half-unpacked tree never looks complete.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from packaging.version import InvalidVersion, Version

from ..errors import VmasteryError
from ..pin import download, index_files, read_pin, sha256_file, unpack

DONE = ".reanchor-sdist-sha256"  # written last inside a finished tree: its presence means "complete"


def _sdists(files: list[dict]) -> dict[Version, dict]:
    found = {}
    for entry in files:
        name = entry["filename"]
        if not (name.startswith("vllm-") and name.endswith(".tar.gz")) or entry.get("yanked"):
            continue
        try:
            found[Version(name[len("vllm-"):-len(".tar.gz")])] = entry
        except InvalidVersion:
            continue
    return found


def newest_release(index_url: str) -> str:
    """The highest non-prerelease version with an sdist on the index."""
    finals = [v for v in _sdists(index_files(index_url)) if not v.is_prerelease and not v.is_devrelease]
    if not finals:
        raise VmasteryError(f"the index {index_url} lists no vllm sdist")
    return str(max(finals))


def releases_between(index_url: str, low: str, high: str) -> list[str]:
    """Final releases with an sdist strictly between `low` and `high`, oldest first: the chain's steps."""
    lo, hi = Version(low), Version(high)
    return [str(v) for v in sorted(_sdists(index_files(index_url)))
            if lo < v < hi and not v.is_prerelease and not v.is_devrelease]


def tree_for_version(root: Path, version: str, index_url: str | None = None) -> Path:
    """`root/.cache/trees/vllm-<version>`, downloaded, verified and unpacked if not there yet."""
    index_url = index_url or read_pin(root).index_url
    dest = root / ".cache" / "trees" / f"vllm-{version}"
    if (dest / DONE).exists():
        return dest
    try:
        wanted = Version(version)
    except InvalidVersion:
        raise VmasteryError(f"'{version}' is not a version number; e.g. --to 0.33.0") from None
    entry = _sdists(index_files(index_url)).get(wanted)
    if entry is None:
        raise VmasteryError(f"the index {index_url} has no sdist for vllm {version}\n"
                            "    fix: pick a released version (see https://pypi.org/project/vllm/#history)")
    expected = entry.get("hashes", {}).get("sha256")
    if not expected:
        raise VmasteryError(f"the index gives no sha256 for {entry['filename']}; refusing an unverifiable file")
    tarball = root / ".cache" / entry["filename"]
    if not tarball.exists() or sha256_file(tarball) != expected:
        download(entry["url"], tarball)
    actual = sha256_file(tarball)
    if actual != expected:
        tarball.unlink()
        raise VmasteryError(f"{tarball.name}: sha256 is {actual}, the index says {expected}; the download "
                            "is corrupt or tampered with and was deleted.\n    fix: run the command again")
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".vllm-{version}-", dir=dest.parent))
    try:
        unpack(tarball, staging, prefix=entry["filename"].removesuffix(".tar.gz"))
        if not (staging / "vllm").is_dir():
            raise VmasteryError(f"{tarball.name}: no vllm/ package inside; this is not a vLLM sdist")
        (staging / DONE).write_text(actual + "\n")
        staging.chmod(0o755)  # mkdtemp makes it private; the tree is meant to be read by anyone
        if dest.exists():
            shutil.rmtree(dest)
        staging.replace(dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dest
