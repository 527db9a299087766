"""The key for hashing numbers and call ids: the store keeps only keyed hashes (HMAC-SHA256)."""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path


def load_secret(settings) -> bytes:
    """The key for hashing numbers: LINE_SECRET, or one made once and kept in the data folder."""
    if settings.secret:
        return settings.secret.encode()
    path = Path(settings.data_dir) / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".secret.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never readable by others
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)  # atomic: the first worker wins, the others read its key
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip().encode()


def keyed_hash(secret: bytes | None, value: str) -> str:
    if not secret:
        raise RuntimeError("this store was opened without the key for hashing numbers")
    return hmac.new(secret, value.strip().encode(), hashlib.sha256).hexdigest()
