"""Uploaded files: checked before anything is stored, stored under names nobody can guess, and
removed again when the change that stored them fails.

- A document (agreement scan, write-off document, unit event attachment, delivery receipt,
  proof of payment) must have an accepted extension, content that is what the extension says
  (its first bytes: `%PDF-`, the JPEG and PNG signatures, …: HTML named `.pdf` is refused) and at
  most settings.DOCUMENT_MAX_BYTES.
- An interchange file uploaded in the admin is at most settings.IMPORT_FILE_MAX_BYTES.
- A stored document is named `<folder>/<32 random hex digits>.<extension>`; it is served only
  through `replenish.documents_serving`, which checks who asks.
"""

import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import PurePath
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models.fields.files import FieldFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

# The extension of each accepted type and how its content begins (OFD is a ZIP container).
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "pdf": (b"%PDF-",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "tif": (b"II*\x00", b"MM\x00*"),
    "tiff": (b"II*\x00", b"MM\x00*"),
    "ofd": (b"PK\x03\x04",),
}


def extension_of(name: str) -> str:
    return PurePath(name or "").suffix.lower().lstrip(".")


def _size(size: int) -> str:
    return filesizeformat(size)


def document_check(file: IO[bytes] | IO[str], *, extensions: Iterable[str] | None = None) -> str:
    """Refuse a document of a type not accepted, whose content is not of its type, or too large;
    return its extension. Reads only the first bytes and leaves the file at its start."""
    name = PurePath(getattr(file, "name", "") or "").name
    extension = extension_of(name)
    allowed = [e for e in (extensions or SIGNATURES) if e in SIGNATURES]
    if extension not in allowed:
        raise ValidationError(
            _("%(name)s: files of this type are not accepted (accepted: %(types)s).")
            % {"name": name, "types": ", ".join(allowed)},
            code="extension",
        )
    size = getattr(file, "size", None)
    if size is not None and size > settings.DOCUMENT_MAX_BYTES:
        raise ValidationError(
            _("%(name)s is larger than %(limit)s.")
            % {"name": name, "limit": _size(settings.DOCUMENT_MAX_BYTES)},
            code="size",
        )
    file.seek(0)
    head = file.read(16)
    file.seek(0)
    if isinstance(head, str) or not head.startswith(SIGNATURES[extension]):
        raise ValidationError(
            _("%(name)s is not a %(type)s file: its content does not match its name.")
            % {"name": name, "type": extension.upper()},
            code="content",
        )
    if size == 0 or not head:
        raise ValidationError(_("%(name)s is empty.") % {"name": name}, code="empty")
    return extension


def import_file_check(file: object) -> None:
    """Refuse an interchange file larger than settings.IMPORT_FILE_MAX_BYTES."""
    size = getattr(file, "size", None)
    if size is not None and size > settings.IMPORT_FILE_MAX_BYTES:
        raise ValidationError(
            _("The file is larger than %(limit)s.")
            % {"limit": _size(settings.IMPORT_FILE_MAX_BYTES)},
            code="size",
        )


def unguessable_name(folder: str, filename: str) -> str:
    """`folder/<128 random bits>.<extension>`: the stored name says nothing about whose it is."""
    extension = extension_of(filename)
    return f"{folder}/{secrets.token_hex(16)}" + (f".{extension}" if extension else "")


@contextmanager
def removed_on_failure() -> Iterator[list[FieldFile]]:
    """Collects the files a change stores (`stored.append(field_file)` after saving one); if the
    change fails, they are deleted again, so no file outlives a refusal or an error."""
    stored: list[FieldFile] = []
    try:
        yield stored
    except BaseException:
        for field_file in stored:
            if field_file.name:
                field_file.storage.delete(field_file.name)
        raise
