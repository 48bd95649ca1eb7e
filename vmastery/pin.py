"""Recreate `upstream/` exactly from the pinned sdist, or refuse loudly.

The pin itself lives in the front matter of `UPSTREAM_PIN.md`; this module only reads it. The tree
is unpacked into a sibling temporary folder and renamed into place when complete, and a manifest of
per-file hashes written last makes a second run a cheap no-op and tells edited files apart.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

from .errors import VmasteryError

MANIFEST = ".pin-manifest.json"
# An editable install of vLLM (`pip install -e upstream/`) regenerates this file through
# setuptools-scm and writes `commit_id = None` into it; only its version line must survive.
REGENERATED = "vllm/_version.py"


@dataclass(frozen=True, slots=True)
class Pin:
    version: str
    commit: str
    commit_id: str
    sdist: str
    sdist_sha256: str
    index_url: str


def read_pin(root: Path, pin_file: str = "UPSTREAM_PIN.md") -> Pin:
    """Parse the front matter of UPSTREAM_PIN.md (the only place the pin is written)."""
    path = root / pin_file
    text = path.read_text(encoding="utf-8")
    match = re.match(r"---\n(.*?)\n---\n", text, re.S)
    if not match:
        raise VmasteryError(f"{path}:1: no front matter; the pin must open with a '---' YAML block")
    data = yaml.safe_load(match.group(1))
    try:
        return Pin(**{k: str(data[k]) for k in Pin.__slots__})
    except KeyError as missing:
        raise VmasteryError(f"{path}:1: pin front matter lacks key {missing}") from None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def index_files(index_url: str) -> list[dict]:
    """Every file the index lists for vllm (filename, url, hashes, yanked), from its JSON simple API (PEP 691)."""
    request = urllib.request.Request(f"{index_url.rstrip('/')}/vllm/",
                                     headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)["files"]
    except OSError as error:
        raise VmasteryError(f"cannot reach the package index {index_url}: {error}\n"
                            "    fix: check the network, or pass a local sdist with --tarball") from None


def sdist_url(pin: Pin) -> str:
    """Where the index says the pinned sdist lives."""
    for entry in index_files(pin.index_url):
        if entry["filename"] == pin.sdist:
            return entry["url"]
    raise VmasteryError(f"the index {pin.index_url} does not list {pin.sdist}")


def download(url: str, dest: Path) -> None:
    """Stream `url` to `dest` through a temporary name, with a progress bar."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_suffix(dest.suffix + ".part")
    with urllib.request.urlopen(url, timeout=120) as response, partial.open("wb") as out:
        total = int(response.headers.get("Content-Length") or 0) or None
        columns = (*Progress.get_default_columns()[:2], BarColumn(), DownloadColumn(), TransferSpeedColumn())
        with Progress(*columns, transient=True) as progress:
            task = progress.add_task(f"download {dest.name}", total=total)
            for chunk in iter(lambda: response.read(1 << 20), b""):
                out.write(chunk)
                progress.advance(task, len(chunk))
    partial.replace(dest)


def obtain_sdist(pin: Pin, root: Path, tarball: Path | None) -> Path:
    """Return a local sdist whose hash matches the pin: the given tarball or the cached download."""
    if tarball is None:
        tarball = root / ".cache" / pin.sdist
        if not tarball.exists():
            download(sdist_url(pin), tarball)
    elif not tarball.is_file():
        raise VmasteryError(f"{tarball}: no such file (give the path of {pin.sdist})")
    actual = sha256_file(tarball)
    if actual != pin.sdist_sha256:
        raise VmasteryError(
            f"{tarball}: sha256 is {actual}, the pin says {pin.sdist_sha256}.\n"
            "    fix: the file is corrupt or a different release; delete it and run `vmastery fetch` "
            "again, or pass the genuine sdist with --tarball"
        )
    return tarball


def safe_members(archive: tarfile.TarFile, prefix: str) -> list[tuple[tarfile.TarInfo, PurePosixPath]]:
    """Every member with the archive's top folder stripped, or an error naming the first unsafe one.

    Only regular files and folders are accepted: an sdist has no business carrying links or devices,
    and refusing them outright is simpler to trust than checking where each link points.
    """
    accepted = []
    for member in archive.getmembers():
        name = PurePosixPath(member.name)
        if name.is_absolute() or ".." in name.parts or "\\" in member.name:
            raise VmasteryError(f"unsafe archive member {member.name!r}: path leaves the tree; refusing to unpack")
        if not (member.isfile() or member.isdir()):
            raise VmasteryError(f"unsafe archive member {member.name!r}: links and special files are refused")
        if name.parts[:1] != (prefix,):
            raise VmasteryError(f"unexpected archive member {member.name!r}: everything must be under {prefix}/")
        accepted.append((member, PurePosixPath(*name.parts[1:])))
    return accepted


def unpack(tarball: Path, dest: Path, prefix: str) -> None:
    """Unpack the sdist into `dest` (which must not exist), stripping its top folder."""
    with tarfile.open(tarball, "r:gz") as archive:
        members = safe_members(archive, prefix)
        with Progress(transient=True) as progress:
            task = progress.add_task(f"unpack {tarball.name}", total=len(members))
            for member, relative in members:
                target = dest / relative
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with archive.extractfile(member) as src, target.open("wb") as out:
                        shutil.copyfileobj(src, out)
                    os.chmod(target, 0o644 | (member.mode & 0o111))
                progress.advance(task)


def check_version(tree: Path, pin: Pin) -> None:
    version_file = tree / "vllm" / "_version.py"
    if not version_file.exists():
        raise VmasteryError(f"{version_file}: missing; this is not a vLLM sdist")
    commit = re.search(r"__commit_id__ = commit_id = '([^']+)'", version_file.read_text(encoding="utf-8"))
    found = (_version_of(version_file), commit and commit.group(1))
    if found != (pin.version, pin.commit_id):
        raise VmasteryError(
            f"{version_file}: reports version {found[0]} commit {found[1]}, "
            f"the pin says {pin.version} commit {pin.commit_id}"
        )


def manifest_of(tree: Path) -> dict[str, str]:
    return {
        str(path.relative_to(tree)): sha256_file(path)
        for path in sorted(tree.rglob("*"))
        if path.is_file() and path.name != MANIFEST and "__pycache__" not in path.parts
        and not path.name.endswith(".egg-info") and ".egg-info" not in str(path.relative_to(tree))
    }


def tree_changes(tree: Path, pin: Pin) -> list[str] | None:
    """None when `tree` is not a pinned tree at all; else the files that differ from the manifest."""
    manifest_path = tree / MANIFEST
    if not manifest_path.exists():
        return None
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("sdist_sha256") != pin.sdist_sha256:
        return None
    recorded: dict[str, str] = manifest["files"]
    current = manifest_of(tree)
    # Files an editable install adds (build/, *.so) are not vLLM source: only pinned files count.
    changed = sorted(path for path, digest in recorded.items() if current.get(path) != digest)
    if REGENERATED in changed and _version_of(tree / REGENERATED) == pin.version:
        changed.remove(REGENERATED)
    return changed


def _version_of(version_file: Path) -> str | None:
    if not version_file.exists():
        return None
    match = re.search(r"__version__ = version = '([^']+)'", version_file.read_text(encoding="utf-8"))
    return match and match.group(1)


def fetch(root: Path, tarball: Path | None = None, force: bool = False) -> str:
    """Make `root/upstream` the pinned tree. Returns a one-line report of what was done."""
    pin = read_pin(root)
    upstream = root / "upstream"
    if upstream.exists():
        changes = tree_changes(upstream, pin)
        if changes == []:
            return f"upstream/ is intact at vLLM {pin.version} ({pin.commit}); nothing to do"
        if not force:
            detail = (
                "it was not made by `vmastery fetch` for this pin" if changes is None
                else f"{len(changes)} pinned files differ, e.g. " + ", ".join(changes[:5])
            )
            raise VmasteryError(
                f"upstream/ exists but {detail}.\n"
                "    fix: keep your edits elsewhere, then run `vmastery fetch --force` to restore the pin"
            )
    sdist = obtain_sdist(pin, root, tarball)
    staging = Path(tempfile.mkdtemp(prefix=".upstream-", dir=root))
    try:
        unpack(sdist, staging, prefix=pin.sdist.removesuffix(".tar.gz"))
        check_version(staging, pin)
        manifest = {"sdist_sha256": pin.sdist_sha256, "files": manifest_of(staging)}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=0, sort_keys=True))
        if upstream.exists():
            shutil.rmtree(upstream)
        staging.replace(upstream)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return f"upstream/ now holds vLLM {pin.version} ({pin.commit}), {len(manifest['files'])} files verified"
