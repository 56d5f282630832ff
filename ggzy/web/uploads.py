"""File uploads through web forms: capped while they stream, so a huge multipart body cannot
fill the disk before any view runs (Django's own limits do not cover files)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler


class CappedTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    """Spools to a temporary file like Django's handler, and stops the upload once one file
    passes ``GGZY_WEB_UPLOAD_MAX_BYTES`` (the form then sees no file and says so)."""

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        self._received = 0
        super().new_file(*args, **kwargs)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self._received += len(raw_data)
        if self._received > settings.GGZY_WEB_UPLOAD_MAX_BYTES:
            self.file.close()
            raise StopUpload(connection_reset=True)
        return super().receive_data_chunk(raw_data, start)  # type: ignore[no-any-return]
