"""Type checks for public arguments.

Python checks only types, and converts nothing that has the wrong type: a
value's meaning (an empty name, a bad port, an unknown format) is checked
once, in Go, with Go's message.  Each helper raises InvalidType, which is
both a pybuildah.BuildahError and a TypeError.

"Not given" travels as None (JSON null), never as "": Go refuses an empty
string where a value is required, so the two cannot be confused.
"""

from __future__ import annotations

import base64
import io
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

from .errors import InvalidType

PathLike = str | os.PathLike[str]


def _kind(value: object) -> str:
    return "None" if value is None else type(value).__name__


def text(value: Any, what: str) -> str:
    """A str, as it is."""
    if not isinstance(value, str):
        raise InvalidType(f"{what} must be a str, not {_kind(value)}")
    return value


def optional_text(value: Any, what: str) -> str | None:
    """A str, or None meaning "not given" (sent as JSON null)."""
    return None if value is None else text(value, what)


def strings(values: Any, what: str) -> list[str]:
    """A list of str from any sequence of str (a lone str is refused: it is almost always a mistake)."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise InvalidType(f"{what} must be a list of strings, not {_kind(values)}")
    out = list(values)
    for value in out:
        if not isinstance(value, str):
            raise InvalidType(f"{what} must be a list of strings, not a list holding {_kind(value)}")
    return out


def optional_strings(values: Any, what: str) -> list[str]:
    """strings(), with None meaning "not given": an empty list."""
    return [] if values is None else strings(values, what)


def string_map(values: Any, what: str, *, removable: bool = False) -> dict[str, str | None]:
    """A dict of str to str (to None too, when removable: None removes the key)."""
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise InvalidType(f"{what} must be a mapping of names to values, not {_kind(values)}")
    out: dict[str, str | None] = {}
    for key, value in values.items():
        text(key, f"a {what} name")
        if value is None and removable:
            out[key] = None
        else:
            out[key] = text(value, f"the {what} value of {key!r}")
    return out


def integer(value: Any, what: str) -> int:
    """An int (bool is refused)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidType(f"{what} must be an int, not {_kind(value)}")
    return value


def optional_integer(value: Any, what: str) -> int | None:
    return None if value is None else integer(value, what)


def seconds(value: Any, what: str) -> float | str:
    """A number of seconds for the wire (bool is refused).

    JSON has no NaN or infinity, so those travel as text and Go, which
    checks the value, refuses them with its own message.
    """
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise InvalidType(f"{what} must be a number of seconds, not {_kind(value)}")
    number = float(value)
    return number if math.isfinite(number) else str(number)


def data(value: Any, what: str) -> bytes:
    """bytes (or str, encoded as UTF-8)."""
    if isinstance(value, str):
        return value.encode()
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise InvalidType(f"{what} must be bytes or str, not {_kind(value)}")
    return bytes(value)


def input_source(value: Any, what: str) -> Any:
    """bytes (str is encoded as UTF-8), or a binary file object (with readinto() or read()) to stream."""
    if isinstance(value, (str, bytes, bytearray, memoryview)):
        return data(value, what)
    if isinstance(value, io.TextIOBase):
        raise InvalidType(f"{what} must be bytes, str or a binary file object; a text-mode file is none "
                          "(open it with 'rb')")
    if not callable(getattr(value, "readinto", None)) and not callable(getattr(value, "read", None)):
        raise InvalidType(f"{what} must be bytes, str or a binary file object, not {_kind(value)}")
    return value


def optional_callable(value: Any, what: str) -> Any:
    """None, or something to call (a log or progress handler), checked before anything runs."""
    if value is not None and not callable(value):
        raise InvalidType(f"{what} must be a callable or None, not {_kind(value)}")
    return value


def flag(value: Any, what: str) -> bool:
    """A bool, not merely something truthy."""
    if not isinstance(value, bool):
        raise InvalidType(f"{what} must be a bool, not {_kind(value)}")
    return value


def optional_flag(value: Any, what: str) -> bool | None:
    """A bool or None (not given)."""
    return None if value is None else flag(value, what)


def path(value: Any, what: str) -> str:
    """A file system path from str, bytes or os.PathLike; bytes keep undecodable names (surrogate escapes)."""
    if isinstance(value, (str, bytes, os.PathLike)):
        raw = os.fspath(value)
        return os.fsdecode(raw) if isinstance(raw, bytes) else raw
    raise InvalidType(f"{what} must be a path (str, bytes or os.PathLike), not {_kind(value)}")


def paths(value: Any, what: str) -> list[str]:
    """One path, or a sequence of paths, as a list."""
    if isinstance(value, (str, bytes, os.PathLike)):
        return [path(value, what)]
    if isinstance(value, Sequence):
        return [path(item, what) for item in value]
    raise InvalidType(f"{what} must be a path or a list of paths, not {_kind(value)}")


def optional_path(value: Any, what: str) -> str | None:
    return None if value is None else path(value, what)


def absolute(value: Any, what: str) -> str:
    """A path made absolute against the working directory; "" stays "" (for Go to refuse, not to mean ".")."""
    name = path(value, what)
    return os.path.abspath(name) if name else name


def optional_absolute(value: Any, what: str) -> str | None:
    return None if value is None else absolute(value, what)


def wire_path(name: str) -> str | dict[str, str]:
    """How a path travels to Go (wire.Path): as text, or as {"base64": ...} when its bytes are not UTF-8.

    JSON text cannot carry such bytes; os.fsdecode keeps them as surrogate
    escapes, which os.fsencode turns back into the bytes the kernel knows.
    """
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return {"base64": base64.b64encode(os.fsencode(name)).decode("ascii")}
    return name
