"""Writing a file so that no reader, and no interrupted run, ever sees half of it."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: str | bytes, durable: bool = True, mode: int = 0o644) -> Path:
    """Replace `path` with `data` (text is written as UTF-8) in one step.

    The bytes go to a temporary file beside `path` and only then are renamed over it: a crash or
    Ctrl-C leaves the old file or the new one, whole. `durable` also syncs them to disk first, so a
    power cut cannot leave an empty file either; hot paths that rewrite a file every second (a
    traced process's running costs) skip that. The temporary name is unique,
    so two writers of one file cannot interleave, and it starts with a dot, so globs like `*.json`
    never pick it up half written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(tmp, mode)  # mkstemp makes files private; the files we write are ordinary ones
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
