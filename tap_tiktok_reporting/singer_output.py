"""Writing Singer messages: msgspec-encoded, buffered, flushed at every STATE."""

from __future__ import annotations

import sys

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib.encoding.simple import Message, SingerMessageType


class BufferedMsgSpecWriter(MsgSpecWriter):
    """Leaves RECORD lines in stdout's buffer and flushes after each STATE.

    A flush per record costs a system call per row. Flushing at every STATE keeps the
    guarantee that matters: once a bookmark is out, so is every record it covers. Python
    flushes what is left when the process ends.
    """

    def write_message(self, message: Message) -> None:
        """Write a message; flush when it is a STATE (or anything but a record)."""
        stdout = sys.stdout.buffer
        stdout.write(self.format_message(message))
        if message.type != SingerMessageType.RECORD:
            stdout.flush()
