"""Files only the server's own user may read: the store, its folder, the accounts file.

The SQLite store holds prompts, responses and key hashes; the accounts file
holds password hashes and the cookie key. Both live in ``data/`` by default.
Folders we create are mode 0700 and files 0600, whatever the umask; the
project's own ``data/`` folder and the store file are tightened when found
looser (an install from before this rule). SQLite gives its ``-wal`` and
``-shm`` files the mode of the database file, so they follow.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

PROJECT_DATA_DIR = Path(__file__).resolve().parent.parent / "data"
DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) as 0700; tighten the project's ``data/``."""
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    path.mkdir(parents=True, exist_ok=True)
    for folder in missing:
        os.chmod(folder, DIR_MODE)
    if path.resolve() == PROJECT_DATA_DIR:
        _tighten(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty as 0600 if missing; tighten it (and SQLite's -wal/-shm) if looser.

    An existing file of ours readable by others was made before this rule: the
    store file and its companions are only ever the server's, so they are tightened.
    """
    private_dir(path.parent)
    try:
        handle = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
    except FileExistsError:
        pass
    else:
        os.close(handle)
    for companion in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        if companion.exists():
            _tighten(companion, FILE_MODE)
    return path


def _tighten(path: Path, mode: int) -> None:
    current = stat.S_IMODE(path.stat().st_mode)
    if current & ~mode:
        # Another user's file (a shared mount) cannot be changed: leave it as it is.
        with contextlib.suppress(PermissionError):
            os.chmod(path, current & mode)
