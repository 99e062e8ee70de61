"""The sandbox's wire protocol: length-prefixed JSON frames and the plain-data codec.

Shared by the worker (inside the sandbox), the pool (host side) and the judge, so the
frame format and the codec's limits exist once. Standard library only: this file is
also bound into the sandbox.

Frames: a 4-byte big-endian length, then UTF-8 JSON holding one object.

* host -> worker (stdin): one ``{"kind": "hello", ...settings}`` frame, then jobs
  ``{"job": id, "cells": [{"source", "capture", "key"}], "limits": {...}, "learner": id or null, "salt": str}``
  (``learner``: the student whose exercise variants the notebook shows, ``COURSE_LEARNER_ID`` in the child;
  ``salt``: the cohort's variant salt, ``COURSE_VARIANT_SALT`` in the child when not empty).
* worker -> host (stdout): ``{"kind": "ready"}`` once, then one ``{"kind": "done"}`` per job.
* child -> worker (a pipe per job): ``started``, ``capture``, ``cell``, ``outputs``,
  ``event``, ``crash`` and ``finished`` frames.

Plain data: a learner value crosses the sandbox wall only as ``{"t": kind, ...}`` with
kind ``none``, ``ellipsis`` (``...``, an exercise not answered yet), ``bool``, ``int``,
``bigint``, ``float``, ``str``, ``missing`` or ``other`` (a marker carrying only a type name). ``to_plain`` runs inside the sandbox and is only
a courtesy; ``from_plain`` runs on the host and re-validates everything.
"""

from __future__ import annotations

import json
import os
import re
import struct

FRAME_HEADER = struct.Struct(">I")
MAX_HOST_FRAME = 64 * 1024 * 1024
"""Largest frame the worker accepts from the host [B]."""
MAX_REPLY_FRAME = 256 * 1024 * 1024
"""Largest reply frame the host accepts from a worker [B]."""
MAX_STRING_CHARS = 10_000
"""Longest string that crosses the wall as plain data [characters]."""
MAX_TYPE_NAME = 60
"""Longest type name carried by an ``other`` marker [characters]."""
MAX_INT_BITS = 1000
"""Largest integer that crosses as itself [bits]; larger ones become a signed ``bigint``."""


# --------------------------------------------------------------------------- framing

def encode_frame(message: dict) -> bytes:
    """One protocol frame holding ``message``."""
    payload = json.dumps(message, allow_nan=True).encode("utf-8")
    return FRAME_HEADER.pack(len(payload)) + payload


def read_exact(fd: int, size: int) -> bytes | None:
    """Read exactly ``size`` bytes from a blocking ``fd``; None at end of file."""
    chunks = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int, limit: int = MAX_HOST_FRAME) -> dict | None:
    """Read one frame from a blocking ``fd``; None at end of file; ValueError past ``limit`` bytes."""
    header = read_exact(fd, FRAME_HEADER.size)
    if header is None:
        return None
    (size,) = FRAME_HEADER.unpack(header)
    if size > limit:
        raise ValueError(f"frame of {size} bytes exceeds the limit of {limit}")
    payload = read_exact(fd, size)
    if payload is None:
        return None
    message = json.loads(payload)
    if not isinstance(message, dict):
        raise ValueError("a frame must hold a JSON object")
    return message


def split_frames(buffer: bytearray) -> list[dict]:
    """Remove and decode every complete frame at the start of ``buffer``; malformed ones are dropped."""
    frames = []
    while len(buffer) >= FRAME_HEADER.size:
        (size,) = FRAME_HEADER.unpack(buffer[:FRAME_HEADER.size])
        if len(buffer) < FRAME_HEADER.size + size:
            break
        payload = bytes(buffer[FRAME_HEADER.size:FRAME_HEADER.size + size])
        del buffer[:FRAME_HEADER.size + size]
        try:
            message = json.loads(payload)
        except (ValueError, RecursionError):
            continue
        if isinstance(message, dict):
            frames.append(message)
    return frames


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data`` to ``fd``."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def frame_sender(fd: int):
    """A function that sends one message as a frame on ``fd`` (unencodable parts become their repr)."""
    dumps, pack = json.dumps, FRAME_HEADER.pack

    def send(message: dict) -> None:
        payload = dumps(message, allow_nan=True, default=repr).encode("utf-8", "replace")
        write_all(fd, pack(len(payload)) + payload)

    return send


# --------------------------------------------------------------------------- plain data

MISSING = {"t": "missing"}


def to_plain(value) -> dict:
    """Describe ``value`` as plain JSON data, or as a marker naming its type.

    None, ``...`` (the answer cells' placeholder), bool, int, float (and numbers that
    convert to them exactly, such as numpy scalars) and str are plain; anything else becomes ``{"t": "other", "type": name}``.
    """
    import numbers

    kind = type(value)
    try:
        if value is None:
            return {"t": "none"}
        if value is Ellipsis:
            return {"t": "ellipsis"}
        if kind is bool:
            return {"t": "bool", "v": value}
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            number = int.__index__(int(value)) if type(value) is not int else value
            if type(number) is not int:
                raise TypeError
            if number.bit_length() > MAX_INT_BITS:
                return {"t": "bigint", "sign": 1 if number > 0 else -1}
            return {"t": "int", "v": int.__int__(number)}
        if isinstance(value, numbers.Real):
            number = float(value)
            if type(number) is not float:
                raise TypeError
            if number != number or number in (float("inf"), float("-inf")):
                return {"t": "float", "v": repr(number)}
            return {"t": "float", "v": number}
        if isinstance(value, str):
            text = str.__str__(value)
            if len(text) > MAX_STRING_CHARS:
                return {"t": "other", "type": "str (too long)"}
            return {"t": "str", "v": text}
    except Exception:  # a learner object whose conversion misbehaves is simply not plain data
        pass
    name = getattr(kind, "__name__", "object")
    if not isinstance(name, str):
        name = "object"
    return {"t": "other", "type": str.__str__(name)[:MAX_TYPE_NAME]}


class NotPlainData:
    """Stands for a learner value that was not plain data (only its type name crossed the sandbox)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object: not plain data>"


ABSENT = object()
"""What ``from_plain`` returns for a variable the learner never defined."""


def _type_named(name) -> type:
    safe = re.sub(r"[^A-Za-z0-9_]", "_", str(name))[:MAX_TYPE_NAME] or "object"
    if safe[0].isdigit():
        safe = "_" + safe
    return type(safe, (NotPlainData,), {"__module__": "submission"})


def from_plain(item):
    """The value described by ``item`` (as the sandbox sent it), re-validated; ``ABSENT`` if it was missing."""
    if not isinstance(item, dict):
        return _type_named("invalid")()
    kind, value = item.get("t"), item.get("v")
    if kind == "missing":
        return ABSENT
    if kind == "none":
        return None
    if kind == "ellipsis":
        return Ellipsis
    if kind == "bool" and type(value) is bool:
        return value
    if kind == "int" and type(value) is int and value.bit_length() <= MAX_INT_BITS:
        return value
    if kind == "bigint" and item.get("sign") in (1, -1):
        return item["sign"] * 10 ** 400
    if kind == "float":
        if type(value) is float:
            return value
        if type(value) is int and value.bit_length() <= MAX_INT_BITS:
            return float(value)
        if value in ("nan", "inf", "-inf"):
            return float(value)
    if kind == "str" and type(value) is str and len(value) <= MAX_STRING_CHARS:
        return value
    if kind == "other":
        return _type_named(item.get("type", "object"))()
    return _type_named("invalid")()


def values_from_plain(captured: dict) -> dict:
    """name -> rebuilt value for every variable the sandbox reported present."""
    values = {}
    for name, item in captured.items():
        if isinstance(name, str) and name.isidentifier():
            value = from_plain(item)
            if value is not ABSENT:
                values[name] = value
    return values
