"""`vmastery fetch`: hash, unpack safety, version check, idempotence, edits never lost silently."""
from __future__ import annotations

import hashlib
import io
import shutil
import tarfile
from pathlib import Path

import pytest

from vmastery.errors import VmasteryError
from vmastery.pin import fetch, read_pin

from .conftest import ROOT

SDIST = ROOT / ".cache" / "vllm-0.22.1.tar.gz"
VERSION_FILE = "__version__ = version = '{v}'\n__commit_id__ = commit_id = '{c}'\n"


def _project(tmp: Path, sha: str | None = None, sdist: str = "vllm-0.22.1.tar.gz") -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    text = (ROOT / "UPSTREAM_PIN.md").read_text()
    pin = read_pin(ROOT)
    if sha:
        text = text.replace(pin.sdist_sha256, sha)
    (tmp / "UPSTREAM_PIN.md").write_text(text.replace(pin.sdist, sdist))
    return tmp


def _tarball(tmp: Path, members: list[tarfile.TarInfo | tuple[str, bytes]]) -> tuple[Path, str]:
    path = tmp / "vllm-0.22.1.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                archive.addfile(member)
            else:
                info = tarfile.TarInfo(member[0])
                info.size = len(member[1])
                archive.addfile(info, io.BytesIO(member[1]))
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


def _good_version() -> tuple[str, bytes]:
    return ("vllm-0.22.1/vllm/_version.py", VERSION_FILE.format(v="0.22.1", c="g0decac0d9").encode())


def test_pin_is_read_from_the_front_matter() -> None:
    pin = read_pin(ROOT)
    assert (pin.version, pin.commit, pin.commit_id) == ("0.22.1", "0decac0", "g0decac0d9")
    assert pin.sdist_sha256 == "cd34902729f3767e3dfbb391956b2986bc638a54be9893e78bda9cc55669f15c"


def test_corrupted_tarball_is_refused(tmp_path: Path) -> None:
    project = _project(tmp_path / "p")
    bad = tmp_path / "vllm-0.22.1.tar.gz"
    data = bytearray(SDIST.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    with pytest.raises(VmasteryError, match="sha256 is .* the pin says"):
        fetch(project, tarball=bad)
    assert not (project / "upstream").exists()


@pytest.mark.parametrize("evil, reason", [
    (("vllm-0.22.1/../escape.py", b"x"), "path leaves the tree"),
    (("/etc/escape.py", b"x"), "path leaves the tree"),
    ("symlink", "links and special files are refused"),
    (("elsewhere/vllm/x.py", b"x"), "everything must be under"),
])
def test_unsafe_members_are_refused_before_anything_is_written(tmp_path: Path, evil, reason: str) -> None:
    if evil == "symlink":
        evil = tarfile.TarInfo("vllm-0.22.1/vllm/link.py")
        evil.type, evil.linkname = tarfile.SYMTYPE, "/etc/passwd"
    tarball, sha = _tarball(tmp_path, [_good_version(), evil])
    project = _project(tmp_path / "project", sha)
    with pytest.raises(VmasteryError, match=reason):
        fetch(project, tarball=tarball)
    assert not (project / "upstream").exists()
    assert not (tmp_path / "escape.py").exists()
    assert not list(project.glob(".upstream-*")), "the staging folder must be cleaned up"


def test_version_mismatch_is_refused(tmp_path: Path) -> None:
    wrong = ("vllm-0.22.1/vllm/_version.py", VERSION_FILE.format(v="0.21.0", c="gdeadbeef").encode())
    tarball, sha = _tarball(tmp_path, [wrong])
    project = _project(tmp_path / "project", sha)
    with pytest.raises(VmasteryError, match="reports version 0.21.0 commit gdeadbeef"):
        fetch(project, tarball=tarball)
    assert not (project / "upstream").exists()


def test_fetch_is_idempotent_and_never_discards_edits_silently(tmp_path: Path) -> None:
    project = _project(tmp_path)
    assert "files verified" in fetch(project, tarball=SDIST)
    assert "nothing to do" in fetch(project, tarball=SDIST)
    edited = project / "upstream/vllm/v1/core/block_pool.py"
    edited.write_text(edited.read_text() + "# my experiment\n")
    with pytest.raises(VmasteryError, match="vllm/v1/core/block_pool.py"):
        fetch(project, tarball=SDIST)
    assert edited.read_text().endswith("# my experiment\n")
    fetch(project, tarball=SDIST, force=True)
    assert edited.read_bytes() == (ROOT / "upstream/vllm/v1/core/block_pool.py").read_bytes()
    shutil.rmtree(project / "upstream")
