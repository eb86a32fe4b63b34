"""Receive an uploaded file: the multipart body is streamed straight into a file on disk.

The request is never held in memory, not even spooled: each chunk the server receives is
parsed and its file bytes written at once (the size limit is ``limits.BodyLimit``'s).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from segwise.config import Settings

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

FIELD = "file"
"""The multipart field that carries the file."""

OPENAPI_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [FIELD],
                    "properties": {
                        FIELD: {
                            "type": "string",
                            "format": "binary",
                            "description": "A transaction log or customer table: CSV, TSV, "
                            "XLSX or Parquet, up to SEGWISE_MAX_UPLOAD_MB.",
                        }
                    },
                }
            }
        },
    }
}


@contextmanager
def upload_folder(settings: Settings) -> Iterator[Path]:
    """A private temporary folder under SEGWISE_HOME (same disk as the datasets, not a RAM
    /tmp), removed with what it holds once the upload is ingested or refused."""
    parent = settings.home / "uploads"
    parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=parent) as folder:
        yield Path(folder)


MAX_BOUNDARY = 70
"""The longest multipart boundary RFC 2046 allows; longer ones are refused before parsing."""


async def receive_upload(request: Request, folder: Path) -> Path:
    """Write the body's ``file`` part to ``folder`` under its (sanitised) file name.

    Raises ``RequestValidationError`` (422) naming ``file`` when the body is not
    multipart/form-data, is malformed, or has no file part.
    """
    kind, options = parse_options_header(request.headers.get("content-type"))
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise _invalid("send the file as multipart/form-data, in the field 'file'")
    if len(boundary) > MAX_BOUNDARY:
        raise _invalid(f"the multipart boundary is longer than {MAX_BOUNDARY} characters")
    sink = _FileSink(folder)
    try:
        parser = MultipartParser(boundary, sink.callbacks())
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except FormParserError as error:
        raise _invalid(f"malformed multipart body: {error}") from None
    finally:
        sink.close()
    if sink.path is None:
        raise _invalid("no file part: send the file in the multipart field 'file'")
    if not sink.ended:
        raise _invalid("the body ends before its closing boundary: the upload was cut off")
    return sink.path


class _FileSink:
    """Parser callbacks: the first part named ``file`` with a file name goes to disk."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path: Path | None = None
        self._handle: IO[bytes] | None = None
        self._header = b""
        self._value = b""
        self._disposition = b""
        self.ended = False  # the closing boundary was read

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_end": self._finished,
            "on_part_begin": self._begin,
            "on_header_field": self._field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_done,
            "on_part_data": self._data,
            "on_part_end": self._end,
        }

    def _begin(self) -> None:
        self._disposition = b""

    def _field(self, data: bytes, start: int, end: int) -> None:
        self._header += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        if self._header.strip().lower() == b"content-disposition":
            self._disposition = self._value
        self._header = self._value = b""

    def _headers_done(self) -> None:
        _, params = parse_options_header(self._disposition)
        name = params.get(b"name", b"").decode("utf-8", "replace")
        filename = params.get(b"filename")
        if name == FIELD and filename is not None and self.path is None:
            self.path = self.folder / safe_name(filename.decode("utf-8", "replace"))
            self._handle = self.path.open("wb")

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self._handle is not None:
            self._handle.write(data[start:end])

    def _end(self) -> None:
        self.close()

    def _finished(self) -> None:
        self.ended = True

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def safe_name(filename: str) -> str:
    """The file's own name (no folders), in characters safe on any file system."""
    base = re.split(r"[\\/]", filename)[-1]
    cleaned = re.sub(r"[^A-Za-z0-9._ -]", "_", base).strip(" .")
    return cleaned[-120:] or "upload"


def _invalid(message: str) -> RequestValidationError:
    return RequestValidationError(
        [{"type": "value_error", "loc": ("body", FIELD), "msg": message, "input": None}]
    )
