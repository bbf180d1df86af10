"""Owner-only files and folders: keys, the embedded log, every store under ``var/``.

Made private when they are created (a folder with mode 0700, a file opened with mode 0600), so
there is no moment at which another account on the machine could read them; the process umask
(``OWNER_ONLY_UMASK``, set by ``make run`` and ``ledger``) covers the files libraries create.
"""

from __future__ import annotations

import os
from pathlib import Path

OWNER_ONLY_UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600


def owner_only() -> None:
    """Every file and folder this process creates from now on is its owner's alone."""
    os.umask(OWNER_ONLY_UMASK)


def private_dir(path: Path) -> Path:
    """``path`` and any missing parents, created 0700 (existing folders are left as they are)."""
    missing: list[Path] = []
    p = path
    while not p.exists():
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue
        os.chmod(d, DIR_MODE)  # mkdir's mode is masked by the umask; never wider than 0700
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty with mode 0600 if it does not exist (its folder 0700)."""
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return path
    os.close(fd)
    return path


def write_private(path: Path, text: str) -> None:
    """Write a new file, 0600 from its creation; never overwrite one (FileExistsError)."""
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
