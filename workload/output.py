"""Writing an output folder atomically and safely: readers see no folder or a complete one, never half.

The rules (docs/cli.md, "Output folders"):

- Everything is built in a hidden temporary folder beside the target, named
  ``.<target>.workload-tmp-<pid>-<random>`` so its owner is clear, and renamed into place at the end.
- Without ``force`` the final rename never replaces anything (a no-replace rename): of two runs racing to
  one new folder, the second fails with :class:`OutputExistsError` and the first one's folder stands. An
  empty folder counts as absent (removing an empty folder loses nothing).
- ``force`` replaces only a folder that this tool wrote, of the same kind (run, comparison, synthetic
  scenario): a run folder is recognised by its manifest, which lists every file in it, so a folder holding
  anything else is never deleted. Never a file, a device, a symbolic link, a protected folder (the
  scenario's folder, the runs being compared, the working folder) or any folder above one.
- The replacement is one atomic exchange of the two folders (Linux ``renameat2(RENAME_EXCHANGE)``), so there
  is no moment when neither run exists. Where the file system cannot exchange, the old folder is moved aside
  as ``.<target>.workload-old-<pid>``, and moved back if the new one cannot be put in place; a run that
  starts and finds such a folder from a dead process restores it when the target is missing.
- Stale temporaries of dead processes beside the target are removed when an output is started: only folders
  named as this tool names them that hold its marker file, never anything else.
- :func:`check_output` makes every check, and proves the location writable, before any computing starts.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import re
import secrets
import shutil
import stat
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workload.safety import escape_formulas

FLOAT_FORMAT = "%.10g"
"""CSV number format: 10 significant figures (pence on a £100m total), byte-stable across runs."""


class OutputError(Exception):
    """The output location cannot be used; the message says why and what to do (exit 2, nothing written)."""


class OutputExistsError(OutputError, FileExistsError):
    """The output folder exists already and --force was not given (or another process got there first)."""


def float_text(values: np.ndarray) -> np.ndarray:
    """Each float as :data:`FLOAT_FORMAT` writes it ("" for NaN), as an object array of strings.

    Each distinct value is formatted once (case tables repeat values: hours from a few scores, coverage of
    1), and whole numbers below 10^10 (which ``%.10g`` writes as their digits) by numpy's integer-to-text
    conversion rather than a Python format each. Distinct means distinct bits, so -0.0 keeps its sign.
    """
    text = np.full(len(values), "", dtype=object)
    present = ~np.isnan(values)
    bits, inverse = np.unique(values[present].view(np.int64), return_inverse=True)
    if len(bits) > len(inverse) // 2:  # mostly distinct: formatting each beats gathering
        text[present] = _formatted(values[present])
    else:
        text[present] = _formatted(bits.view(np.float64))[inverse.reshape(-1)]
    return text


def _formatted(values: np.ndarray) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    whole = (values == np.round(values)) & (np.abs(values) < 1e10) & ~np.signbit(values)
    out[whole] = values[whole].astype(np.int64).astype(str).astype(object)
    out[~whole] = [FLOAT_FORMAT % v for v in values[~whole].tolist()]
    return out


def write_csv(frame: pd.DataFrame, path: Path, index: bool = True) -> None:
    """A table as UTF-8 CSV with a fixed float format (byte-identical for identical inputs).

    Float columns are formatted here, one list comprehension a column, and handed to pandas as text:
    the same bytes as ``to_csv(float_format=FLOAT_FORMAT)`` (a test holds them to it), in about half the
    time, which matters for the 250,000-row case tables of a national run. Text cells that a spreadsheet
    would run as a formula are quoted first (:func:`workload.safety.escape_formulas`).
    """
    frame = escape_formulas(frame)
    floats = [name for name, dtype in frame.dtypes.items() if dtype.kind == "f"]
    if floats and len(frame) > 1000 and frame.columns.is_unique:
        frame = frame.copy(deep=False)
        for name in floats:
            frame[name] = float_text(frame[name].to_numpy(dtype=float))
    frame.to_csv(path, index=index, float_format=FLOAT_FORMAT, lineterminator="\n")


def jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return None if not np.isfinite(v) else round(v, 6)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, Path):
        return str(value)
    return value


def write_json(data: Any, path: Path) -> None:
    """JSON with sorted keys and rounded floats, so two identical runs give identical bytes."""
    path.write_text(json.dumps(jsonable(data), indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


MANIFEST = "manifest.json"
"""The file that marks a folder as written by this tool; it lists the folder's files."""

WRITTEN_BY = "workload"

TMP_MARK = ".workload-tmp-"
OLD_MARK = ".workload-old-"

_RUN_SUFFIXES = frozenset({".csv", ".json", ".html", ".xlsx"})
SYNTH_HEADER = "# Synthetic scenario written by workload.synth"
"""First line of a scenario.toml that ``workload synth`` wrote."""
SYNTH_FILES = frozenset({"scenario.toml", "cases.csv", "practitioners.csv", "partners.csv", "README.md"})

KIND_WORDS = {
    "run": "a run folder",
    "compare": "a comparison folder",
    "synth": "a synthetic scenario folder",
    "simulate": "a simulation folder",
}


# ----------------------------------------------------------------------------------------------------------
# which folders may be replaced


def _entries(folder: Path) -> list[os.DirEntry[str]]:
    with os.scandir(folder) as it:
        return list(it)


def _only_files(entries: list[os.DirEntry[str]]) -> bool:
    return all(e.is_file(follow_symlinks=False) for e in entries)


def _read_manifest(folder: Path) -> dict[str, Any] | None:
    path = folder / MANIFEST
    try:
        if not stat.S_ISREG(path.lstat().st_mode) or path.stat().st_size > 10_000_000:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _is_ours(folder: Path, kind: str) -> bool:
    """Whether ``folder`` is an output folder of ``kind`` that this tool wrote, holding nothing else."""
    entries = _entries(folder)
    if not _only_files(entries):
        return False
    names = {e.name for e in entries}
    if kind == "synth":
        try:
            first = (folder / "scenario.toml").read_text(encoding="utf-8").split("\n", 1)[0]
        except (OSError, UnicodeDecodeError):
            return False
        return first.startswith(SYNTH_HEADER) and names <= SYNTH_FILES
    manifest = _read_manifest(folder)
    if manifest is None:
        # a comparison folder written before comparisons had a manifest
        return kind == "compare" and names == {"compare.csv", "compare.html"}
    if manifest.get("written_by") == WRITTEN_BY:
        files = manifest.get("files")
        return manifest.get("kind") == kind and isinstance(files, list) and names <= {*map(str, files), MANIFEST}
    # a run folder written before manifests listed their files: only the kinds of file a run writes
    legacy = {"version", "stage_seconds"} <= set(manifest)
    return kind == "run" and legacy and all(Path(n).suffix in _RUN_SUFFIXES for n in names)


def _within(path: Path, other: Path) -> bool:
    """Whether ``other`` is ``path`` or lies inside it."""
    try:
        return other == path or other.is_relative_to(path)
    except ValueError:
        return False


def _real(path: Path) -> Path:
    try:
        return Path(os.path.realpath(path))
    except (OSError, ValueError):
        return Path(os.path.abspath(path))


def check_output(
    target: Path, force: bool = False, kind: str = "run", protected: Sequence[Path] = (), probe: bool = True
) -> None:
    """Raise :class:`OutputError` unless ``target`` can receive a new output folder of ``kind``.

    Checks, before anything is computed: ``target`` is not a protected folder nor above one (the working
    folder is always protected); it is absent, an empty folder, or (with ``force``) a folder of this kind that
    this tool wrote; and, with ``probe``, that a folder can be made beside it (the disk is writable and the
    name is not too long). Nothing is left behind.
    """
    target = Path(target)
    word = KIND_WORDS.get(kind, "an output folder")
    mode = guard_location(target, protected)
    if mode is not None:
        try:
            empty = not _entries(target)
        except OSError as exc:
            raise OutputError(f"--out {target} cannot be read ({exc.strerror or type(exc).__name__})") from None
        if not empty:
            if not force:
                raise OutputExistsError(f"{target} exists already; choose another --out or add --force to replace it")
            if not _is_ours(target, kind):
                raise OutputError(
                    f"--force replaces only {word} that workload wrote, holding nothing else; {target} is not one "
                    "(it has other files in it, or no workload manifest). Nothing was changed; choose another --out"
                )
    if probe:
        _probe_writable(target)


def guard_location(target: Path, protected: Sequence[Path] = ()) -> int | None:
    """Raise :class:`OutputError` unless ``target`` may be an output folder at all; return its ``lstat`` mode
    (None when it does not exist).

    Refused: a name that is no folder name (``.``, ``..``, a root), a protected folder (and the working
    folder) or any folder above one, a symbolic link, and anything that exists but is not a folder.
    """
    if not target.name or target.name in (".", ".."):
        raise OutputError(f"{target} is not a folder name this tool can write to; give a new folder, e.g. runs/mine")
    real = _real(target)
    for guarded in [*protected, Path.cwd()]:
        guarded_real = _real(Path(guarded))
        if _within(real, guarded_real):
            what = "the working folder" if guarded_real == _real(Path.cwd()) else str(guarded)
            where = f"is {what}" if real == guarded_real else f"is a folder above {what}"
            raise OutputError(
                f"--out {target} {where}, which must never be replaced; choose a new folder (nothing was changed)"
            )
    try:
        mode = target.lstat().st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise OutputError(f"--out {target} cannot be used ({exc.strerror or type(exc).__name__})") from None
    if stat.S_ISLNK(mode):
        raise OutputError(f"--out {target} is a symbolic link; give a real folder (nothing was changed)")
    if not stat.S_ISDIR(mode):
        raise OutputError(f"--out {target} is a file, not a folder; choose another --out (nothing was changed)")
    return mode


def _nearest_existing(path: Path) -> Path:
    path = Path(os.path.abspath(path))
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _probe_writable(target: Path) -> None:
    """Make and remove a folder with the target's name beside it, or raise OutputError saying why not."""
    base = _nearest_existing(target.parent)
    if not base.is_dir():
        raise OutputError(f"--out {target}: {base} is a file, so no folder can be made under it; choose another --out")
    probe = base / f".{_short(target.name)}{TMP_MARK}{os.getpid()}-probe{secrets.token_hex(4)}"
    try:
        probe.mkdir()
        try:
            (probe / target.name).mkdir()
        finally:
            shutil.rmtree(probe, ignore_errors=True)
    except OSError as exc:
        raise OutputError(output_problem(exc, target)) from None


WRITE_ERRNOS = {
    errno.ENOSPC: "the disk is full; free some space or choose --out on another disk",
    errno.EDQUOT: "your disk quota is used up; free some space or choose --out elsewhere",
    errno.EROFS: "the file system is read-only; choose --out on a writable disk",
    errno.EACCES: "permission denied; choose --out in a folder you can write to",
    errno.EPERM: "operation not permitted; choose --out in a folder you can write to",
    errno.ENAMETOOLONG: "the name is too long for the file system; choose a shorter --out",
    errno.ENOTDIR: "part of the path is a file, not a folder; choose another --out",
    errno.EMLINK: "the folder holds too many entries; choose another --out",
}
"""Operating-system errors that mean "this output location cannot be used" (exit 2, with what to do)."""


def output_problem(exc: OSError, target: Path | None = None) -> str:
    """A one-line message for an OSError met while writing output: where, what happened, what to do."""
    where = target if target is not None else (exc.filename or "the output folder")
    advice = WRITE_ERRNOS.get(exc.errno or 0, exc.strerror or type(exc).__name__)
    return f"cannot write {where}: {advice}. Nothing was written."


def is_output_os_error(exc: BaseException) -> bool:
    """Whether ``exc`` is an environment problem with the output location (reported as bad input)."""
    return isinstance(exc, OSError) and exc.errno in WRITE_ERRNOS


# ----------------------------------------------------------------------------------------------------------
# renames that never replace, and that exchange


_RENAME_NOREPLACE = 1
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _renameat2(source: Path, destination: Path, flags: int) -> bool:
    """Linux renameat2; True if it ran, False where the system or file system does not offer it."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        call = libc.renameat2
    except (OSError, AttributeError):
        return False
    call.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    call.restype = ctypes.c_int
    if call(_AT_FDCWD, os.fsencode(source), _AT_FDCWD, os.fsencode(destination), flags) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(source), None, str(destination))


def rename_noreplace(source: Path, destination: Path) -> None:
    """Rename ``source`` to ``destination``; raise FileExistsError if ``destination`` exists, never replace it.

    An empty folder at ``destination`` is removed first (``rmdir`` removes only empty folders, so this
    cannot lose anything). Without renameat2 the destination is claimed with ``mkdir`` (atomic) and the
    rename then replaces that empty folder.
    """
    try:
        os.rmdir(destination)
    except OSError:
        pass
    try:
        if _renameat2(source, destination, _RENAME_NOREPLACE):
            return
    except OSError as exc:
        if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
            raise FileExistsError(errno.EEXIST, "exists", str(destination)) from None
        raise
    os.mkdir(destination)  # FileExistsError if anything is there
    try:
        os.rename(source, destination)
    except OSError:
        try:
            os.rmdir(destination)
        except OSError:
            pass
        raise


def _exchange(new: Path, target: Path) -> Path:
    """Put folder ``new`` in place of folder ``target``; return where the old folder now is.

    One atomic exchange where the system offers it; otherwise the old folder is moved aside, and moved back
    if the new one cannot be put in place.
    """
    if _renameat2(new, target, _RENAME_EXCHANGE):
        return new  # ``new``'s path now holds the old folder
    old = target.parent / f".{target.name}{OLD_MARK}{os.getpid()}"
    os.rename(target, old)
    try:
        rename_noreplace(new, target)
    except BaseException:
        os.rename(old, target)
        raise
    return old


# ----------------------------------------------------------------------------------------------------------
# stale temporaries and stranded old runs


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _owner(name: str, mark: str) -> int | None:
    rest = name.split(mark, 1)[1] if mark in name else ""
    pid = rest.split("-", 1)[0]
    return int(pid) if pid.isdigit() else None


def _short(name: str) -> str:
    """A target name cut short enough that a temporary's longer name still fits the file system."""
    return name if len(name.encode()) <= 96 else name.encode()[:96].decode(errors="ignore")


TMP_MARKER = ".workload-temporary"
"""A file inside every temporary output folder, written first: a folder is removed as a stale temporary only
when it carries it (and its name and dead owner match), so nothing of the user's is ever taken for one."""

_TMP_NAME = re.compile(r"\.(?P<stem>.+)\.workload-tmp-(?P<pid>\d+)-(?P<token>[0-9a-f]{8})")
_OLD_NAME = re.compile(r"\.(?P<stem>.+)\.workload-old-(?P<pid>\d+)")


def _dead_owner(match: re.Match[str] | None) -> bool:
    return match is not None and not _alive(int(match.group("pid")))


def remove_stale_temporaries(target: Path, files: bool = False) -> list[Path]:
    """Tidy the folder beside ``target`` after processes that were killed; return what was removed or restored.

    Only what this tool provably wrote is touched:

    - a temporary folder ``.<name>.workload-tmp-<pid>-<8 hex digits>`` whose process is gone and which holds
      the :data:`TMP_MARKER` file is removed (with ``files``, in a folder the caller knows is its own, such as
      a sweep's, temporary files of that name are removed too);
    - an old output moved aside, ``.<name>.workload-old-<pid>``, whose process is gone and which is a run,
      comparison or synthetic scenario folder this tool wrote, is moved back to ``<name>`` when that is missing
      (the replacement never landed), and removed when ``<name>`` exists (the replacement did land).

    Anything else, hidden folders of other programs with similar names included, is left alone.
    """
    parent = Path(target).parent
    changed: list[Path] = []
    try:
        entries = _entries(parent)
    except OSError:
        return changed
    for entry in entries:
        path = Path(entry.path)
        tmp = _TMP_NAME.fullmatch(entry.name)
        if _dead_owner(tmp):
            if entry.is_dir(follow_symlinks=False) and (path / TMP_MARKER).is_file():
                shutil.rmtree(path, ignore_errors=True)
                changed.append(path)
            elif files and entry.is_file(follow_symlinks=False):
                path.unlink(missing_ok=True)
                changed.append(path)
            continue
        old = _OLD_NAME.fullmatch(entry.name)
        if not _dead_owner(old) or not entry.is_dir(follow_symlinks=False):
            continue
        if not any(_is_ours(path, kind) for kind in KIND_WORDS):
            continue
        assert old is not None
        original = parent / old.group("stem")
        if not original.exists():
            try:
                rename_noreplace(path, original)
            except OSError:
                continue
        else:
            shutil.rmtree(path, ignore_errors=True)
        changed.append(path)
    return changed


# ----------------------------------------------------------------------------------------------------------
# the atomic folder


def _finish_manifest(folder: Path, kind: str) -> None:
    """Mark ``folder`` as this tool's output of ``kind``: manifest.json gains the list of every file in it."""
    if kind == "synth":
        return
    manifest = _read_manifest(folder) or {}
    manifest.update(written_by=WRITTEN_BY, kind=kind)
    manifest["files"] = sorted(e.name for e in _entries(folder) if e.name != MANIFEST)
    write_json(manifest, folder / MANIFEST)


@contextmanager
def atomic_folder(
    target: Path, force: bool = False, kind: str = "run", protected: Sequence[Path] = ()
) -> Iterator[Path]:
    """Yield a temporary folder to fill; on success it becomes ``target`` in one rename.

    ``target`` is checked by :func:`check_output` first (raising :class:`OutputError`). On any exception
    the temporary folder is removed and ``target`` is left as it was. Without ``force`` an output that
    appeared meanwhile is never replaced (:class:`OutputExistsError`); with ``force`` the two folders are
    exchanged and the old one removed.
    """
    target = Path(target)
    check_output(target, force=force, kind=kind, protected=protected, probe=False)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(target)
    tmp = target.parent / f".{_short(target.name)}{TMP_MARK}{os.getpid()}-{secrets.token_hex(4)}"
    tmp.mkdir(mode=0o700)
    try:
        (tmp / TMP_MARKER).write_text("a temporary folder of workload; removed when its process is gone\n")
        yield tmp
        (tmp / TMP_MARKER).unlink()
        _finish_manifest(tmp, kind)
        os.chmod(tmp, 0o755)
        _commit(tmp, target, force, kind, protected)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _commit(tmp: Path, target: Path, force: bool, kind: str, protected: Sequence[Path]) -> None:
    try:
        rename_noreplace(tmp, target)
        return
    except FileExistsError:
        if not force:
            raise OutputExistsError(
                f"{target} appeared while this run was computing (another run wrote it?); it was left as it is "
                "and this run's results were not kept. Choose another --out"
            ) from None
    # with force: check again that what is there now may be replaced, then exchange
    check_output(target, force=True, kind=kind, protected=protected, probe=False)
    old = _exchange(tmp, target)
    shutil.rmtree(old, ignore_errors=True)
