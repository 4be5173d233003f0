"""Files and text that may come from a student: read within bounds, shown without effects.

Every YAML file derive reads (a student's answers or claims, the instructor's assignment, a
values file) goes through :func:`read_yaml`: a regular file (optionally not a symbolic link),
at most ``limit`` bytes read (the size is checked before anything is read or hashed), UTF-8,
parsed by PyYAML's safe loader only after a first pass over its events has refused aliases,
nesting deeper than :data:`MAX_DEPTH`, more than :data:`MAX_NODES` nodes and a key given twice
in one mapping. (PyYAML's composer recurses and its pure-Python scanner is quadratic in the flow
nesting: 40 kB of ``[`` took 40 s there; the event pass stops at the first level too deep.)
Mappings come back as :class:`YamlMap`, which knows the line of each key, so a problem is
reported as ``file:line``.

Strings from such a file may hold anything YAML's escapes can write, a lone surrogate
(``"\\ud800"``) among them, which no file or terminal can take: :func:`clean` replaces those
with U+FFFD when the data is read. :func:`shown` is the text for a terminal, a CSV cell or a
Markdown page: control and format characters (an escape sequence that repaints the screen or
sets the window title, a right-to-left override) as visible ``\\x1b``-style escapes.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import yaml

from derive.errors import DeriveError

MAX_DEPTH = 20
MAX_NODES = 100_000
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when PyYAML has it


class YamlMap(dict):
    """A YAML mapping that remembers where it was written: ``line`` (1-based) of the mapping,
    ``lines[key]`` of each key."""

    line: int = 0
    lines: dict

    def line_of(self, key) -> int:
        return self.lines.get(key, self.line) if hasattr(self, "lines") else self.line


class _Loader(_LOADER):
    pass


def _construct_mapping(loader, node):
    data = YamlMap()
    data.line = node.start_mark.line + 1
    data.lines = {}
    yield data
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        try:
            hash(key)
        except TypeError:
            raise DeriveError(f"line {line}: a key must be a name") from None
        if key in data:  # 1 and 0x1 are one key
            first = data.lines[key]
            raise DeriveError(f"line {line}: {shown(repr(key), 40)} is given twice "
                              f"(first at line {first})")  # fmt: skip
        data[key] = loader.construct_object(value_node, deep=True)
        data.lines[key] = key_node.start_mark.line + 1


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


# --- files --------------------------------------------------------------------------------
def read_bytes(
    path: Path, limit: int, *, follow_symlinks: bool = True, what: str = "file"
) -> bytes:
    """At most ``limit`` bytes of the regular file ``path``; a DeriveError for anything else (a
    folder, a FIFO, a device, a symbolic link when not ``follow_symlinks``, a larger file).
    Nothing is read from a file that is too large, and a FIFO is never waited on."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
        if os.path.islink(path):
            raise DeriveError(f"{shown(path)}: a symbolic link, not a {what}")
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise DeriveError(f"{shown(path)}: no such {what}") from None
    except OSError as err:
        if not follow_symlinks and os.path.islink(path):
            raise DeriveError(f"{shown(path)}: a symbolic link, not a {what}") from None
        raise DeriveError(f"{shown(path)}: cannot open it ({err.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise DeriveError(f"{shown(path)}: {kind}, not a {what}")
        if info.st_size > limit:
            raise DeriveError(f"{shown(path)}: larger than {_size(limit)}; not a {what}")
        chunks, left = [], limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 16))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as err:
        raise DeriveError(f"{shown(path)}: cannot read it ({err.strerror})") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:  # it grew while being read
        raise DeriveError(f"{shown(path)}: larger than {_size(limit)}; not a {what}")
    return data


def read_text(path: Path, limit: int, *, follow_symlinks: bool = True, what: str = "file") -> str:
    data = read_bytes(path, limit, follow_symlinks=follow_symlinks, what=what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DeriveError(f"{shown(path)}: not UTF-8 text (byte {err.start + 1})") from None


def read_yaml(path: Path, limit: int, *, follow_symlinks: bool = True, what: str = "file"):
    """The YAML file at ``path``, read and parsed within the bounds above."""
    text = read_text(path, limit, follow_symlinks=follow_symlinks, what=what)
    return load_yaml(text, shown(path))


def _size(limit: int) -> str:
    return f"{limit // 1000} kB" if limit < 10**7 else f"{limit // 10**6} MB"


# --- YAML ---------------------------------------------------------------------------------
def load_yaml(text: str, where: str):
    """Parse ``text`` (see the module's docstring); errors name ``where`` and the line."""
    try:
        _check_events(text, where)
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or "not valid YAML"
        raise DeriveError(f"{where}{line}: not valid YAML: {problem}") from None
    except DeriveError as err:
        message = str(err)
        if message.startswith("line "):  # from the constructor: a key that is not a name
            message = f"{where}:{message[5:]}"
        raise DeriveError(message) from None
    except RecursionError:
        raise DeriveError(f"{where}: nested too deeply") from None
    return clean(data)


def _check_events(text: str, where: str) -> None:
    depth = nodes = 0
    keys: list[dict | None] = []  # per open collection: a mapping's keys so far (None: a list)
    expect_key: list[bool] = []
    for event in yaml.parse(text, Loader=_LOADER):
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            raise DeriveError(f"{where}:{line}: YAML aliases (*name) are not allowed")
        if isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
            nodes += 1
            if nodes > MAX_NODES:
                raise DeriveError(f"{where}: more than {MAX_NODES:,} values")
            if keys and keys[-1] is not None:
                if expect_key[-1] and isinstance(event, yaml.ScalarEvent):
                    if event.value in keys[-1]:
                        raise DeriveError(
                            f"{where}:{line}: {shown(event.value, 40)!r} is given twice "
                            f"(first at line {keys[-1][event.value]})"
                        )
                    keys[-1][event.value] = line
                expect_key[-1] = not expect_key[-1]
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise DeriveError(f"{where}:{line}: nested deeper than {MAX_DEPTH} levels")
            keys.append({} if isinstance(event, yaml.MappingStartEvent) else None)
            expect_key.append(True)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
            keys.pop()
            expect_key.pop()


# --- text ---------------------------------------------------------------------------------
def clean(data):
    """``data`` with every string's lone surrogates replaced by U+FFFD (keys too)."""
    if isinstance(data, str):
        return _clean_str(data)
    if isinstance(data, list):
        return [clean(v) for v in data]
    if isinstance(data, dict):
        out = type(data)()
        if isinstance(data, YamlMap):
            out.line = data.line
            out.lines = {clean(k): v for k, v in getattr(data, "lines", {}).items()}
        for k, v in data.items():
            out[clean(k)] = clean(v)
        return out
    return data


def _clean_str(text: str) -> str:
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in text)


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else (
        f"\\U{code:08x}")  # fmt: skip


def visible(text: str, keep: str = "") -> str:
    """``text`` with every character that is not printable (controls, format characters,
    surrogates: also those of a file name that is not UTF-8), other than spaces and those in
    ``keep``, as an escape: ``\x1b``, ``\u202e``."""
    out = []
    for ch in text:
        if ch.isprintable() or ch == " " or ch in keep:
            out.append(ch)
        else:
            out.append(_escape(ch))
    return "".join(out)


def shown(text: object, limit: int = 0) -> str:
    """``text`` on one line (runs of white space as one space), every character that is not
    printable as an escape (see :func:`visible`); at most ``limit`` characters (0: all)."""
    if isinstance(text, os.PathLike):
        text = os.fspath(text)
    flat = visible(" ".join(str(text).split()))
    return flat if not limit or len(flat) <= limit else flat[: limit - 1] + "…"


def file_label(name: str | os.PathLike) -> str:
    """A file name as text that any file, JSON or terminal takes, one to one: a byte that is
    not UTF-8 as ``\\xff``, every character that is not printable (a tab, a no-break space, a
    zero-width joiner) as its escape, a backslash as two; spaces kept (" alice.yaml" is not
    "alice.yaml")."""
    text = os.fsencode(name).decode("utf-8", errors="surrogateescape")
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif "\udc80" <= ch <= "\udcff":
            out.append(f"\\x{ord(ch) - 0xDC00:02x}")
        elif ch.isprintable() or ch == " ":
            out.append(ch)
        else:
            out.append(_escape(ch))
    return "".join(out)
