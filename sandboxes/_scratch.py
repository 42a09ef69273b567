"""Per-run scratch directories: create, fill with the caller's files, remove."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import PurePosixPath

from .base import SandboxError


def check_files(files: dict[str, str | bytes] | None) -> dict[str, bytes]:
    """Validate ``files`` (relative names, no ``..``) and encode contents; ValueError on bad input."""
    out: dict[str, bytes] = {}
    for name, content in (files or {}).items():
        p = PurePosixPath(name)
        if not name or p.is_absolute() or ".." in p.parts or name.endswith("/") or not p.parts:
            raise ValueError(f"file name must be a relative path inside the scratch dir: {name!r}")
        if "\0" in name or any(len(part.encode()) > 255 for part in p.parts):
            raise ValueError(f"file name has a NUL or a component over 255 bytes: {name[:80]!r}")
        if isinstance(content, str):
            content = content.encode()
        elif not isinstance(content, bytes | bytearray):
            raise ValueError(f"file {name!r}: content must be str or bytes, got {type(content).__name__}")
        out[str(p)] = bytes(content)
    _check_no_file_is_a_dir(out)
    return out


def _check_no_file_is_a_dir(files: dict[str, bytes]) -> None:
    """ValueError if one file's path is a parent directory of another's (both cannot exist)."""
    dirs = {str(parent) for name in files for parent in PurePosixPath(name).parents} - {"."}
    clash = sorted(dirs & files.keys())
    if clash:
        raise ValueError(f"file {clash[0]!r} is also the directory of other files")


#: Where ``run_python`` puts the program, relative to the scratch dir.
MAIN_FILE = "main.py"


def python_files(code: str, files: dict[str, str | bytes] | None) -> dict[str, bytes]:
    """``files`` checked, plus ``code`` as ``MAIN_FILE``; ValueError on bad input or a clash."""
    if not isinstance(code, str):
        raise ValueError("code must be a str")
    checked = check_files(files)
    if MAIN_FILE in checked:
        raise ValueError(f"files may not contain {MAIN_FILE!r}: run_python writes the code there")
    checked[MAIN_FILE] = code.encode()
    _check_no_file_is_a_dir(checked)
    return checked


def write_files(root: str, files: dict[str, bytes]) -> None:
    """Write already-checked ``files`` under ``root``."""
    for name, data in files.items():
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)


def make_scratch(files: dict[str, bytes], base_dir: str | None = None) -> str:
    """A fresh, empty-but-for-``files`` directory (mode 0777 so any sandbox uid may write)."""
    try:
        root = tempfile.mkdtemp(prefix="nemogym-sb-", dir=base_dir)
        os.chmod(root, 0o777)
        write_files(root, files)
    except OSError as e:
        raise SandboxError(f"could not create the scratch dir: {e}") from e
    return root


def remove_scratch(root: str) -> None:
    """Delete a scratch dir, even one the program made unreadable."""
    def force(path: str) -> None:
        if os.path.isdir(path) and not os.path.islink(path):
            os.chmod(path, 0o700)
            for name in os.listdir(path):
                force(os.path.join(path, name))
            os.rmdir(path)
        else:
            os.unlink(path)

    try:
        force(root)
    except (OSError, RecursionError):
        shutil.rmtree(root, ignore_errors=True)
