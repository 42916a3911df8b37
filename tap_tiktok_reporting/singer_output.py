"""Writing Singer messages: msgspec-encoded, buffered, flushed at every STATE."""

from __future__ import annotations

import atexit
import decimal
import io
import sys
import typing as t

from singer_sdk.contrib.msgspec import MsgSpecWriter, serialize_jsonl
from singer_sdk.singerlib.encoding.simple import Message, SingerMessageType

OUTPUT_BUFFER_BYTES = 1 << 16


class BufferedMsgSpecWriter(MsgSpecWriter):
    """Leaves RECORD lines in a buffer and flushes after each STATE.

    A flush per record costs a system call per row. Flushing at every STATE keeps the
    guarantee that matters: once a bookmark is out, so is every record it covers; records
    still in the buffer when the process dies are covered by no bookmark, so they are read
    again. The buffer is the tap's own: under `PYTHONUNBUFFERED` (or `python -u`),
    `sys.stdout.buffer` is the raw file and would cost a system call per record again.
    """

    def serialize_message(self, message: Message) -> bytearray:
        """One JSON line; a non-finite decimal (TikTok's "NaN") is written as null.

        JSON has no such number. The check costs nothing on the usual path: only a message
        that fails to encode is looked at.
        """
        try:
            return super().serialize_message(message)
        except ValueError:  # msgspec refuses a non-finite decimal as a number
            return serialize_jsonl(without_non_finite(message.to_dict()))

    def write_message(self, message: Message) -> None:
        """Write a message; flush when it is a STATE (or anything but a record)."""
        output = buffered_stdout()
        output.write(self.format_message(message))
        if message.type != SingerMessageType.RECORD:
            output.flush()


_buffers: dict[int, io.BufferedWriter] = {}


def buffered_stdout() -> t.BinaryIO:
    """Standard output's binary stream, with a buffer of our own when it has none."""
    stream = sys.stdout.buffer
    if not isinstance(stream, io.RawIOBase):
        return stream
    fd = stream.fileno()
    buffer = _buffers.get(fd)
    if buffer is None:
        # A file object of our own on the same descriptor, never closing it: stdout stays
        # usable for whatever writes after us, and nothing is lost at exit.
        buffer = io.BufferedWriter(io.FileIO(fd, "wb", closefd=False), OUTPUT_BUFFER_BYTES)
        atexit.register(buffer.flush)
        _buffers[fd] = buffer
    return buffer


def without_non_finite(value: t.Any) -> t.Any:
    """`value` with every non-finite decimal in it, at any depth, replaced by None."""
    if isinstance(value, decimal.Decimal):
        return value if value.is_finite() else None
    if isinstance(value, dict):
        return {key: without_non_finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [without_non_finite(item) for item in value]
    return value
