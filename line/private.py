"""The data folder and what is in it (the SQLite database, the key for hashing numbers, published
content, audio clips) are for the line alone: folders 0700, files 0600, now and later."""
from __future__ import annotations

import os
from pathlib import Path

from .store.database import sqlite_file

PRIVATE_UMASK = 0o077  # whatever the line makes from now on: its own user only


def keep_private(settings) -> None:
    """Make the line's folders (and everything already in them) its user's alone, and every file
    and folder it makes later too (the process's umask: SQLite's -wal and -shm files, clips)."""
    os.umask(PRIVATE_UMASK)
    folders = {Path(settings.data_dir)}
    if settings.audio_dir:
        folders.add(Path(settings.audio_dir))
    database = sqlite_file(settings.database_url)
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        private_tree(folder)
    if database is not None:
        for path in (database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")):
            _private(path)


def private_tree(folder: Path) -> None:
    """`folder` and everything in it: its user's alone (a copy keeps its source's modes)."""
    _private(folder)
    for path in folder.rglob("*"):
        _private(path)


def _private(path: Path) -> None:
    try:
        if path.is_symlink():
            return
        path.chmod(0o700 if path.is_dir() else 0o600)
    except FileNotFoundError:
        pass
    except PermissionError:  # not the line's own (a shared folder): leave it as its owner set it
        pass
