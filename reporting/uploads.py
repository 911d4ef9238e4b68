"""Checks on uploaded files, before anything parses them: size, type from the content, zip bombs.

The type of a file is read from its first bytes (and, for XLSX, from the parts inside the zip),
never taken from its name or the browser's Content-Type; the name's extension must agree.
An XLSX is a zip: its part count and uncompressed size are checked from the zip directory
before openpyxl unpacks anything (ASVS 5.2.3).
"""
from __future__ import annotations

import codecs
import hashlib
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop as N_

PDF, XLSX, PNG, JPEG, CSV = "pdf", "xlsx", "png", "jpeg", "csv"
CONTENT_TYPES = {
    PDF: "application/pdf",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    PNG: "image/png",
    JPEG: "image/jpeg",
    CSV: "text/csv",
}
EXTENSIONS = {PDF: {".pdf"}, XLSX: {".xlsx"}, PNG: {".png"}, JPEG: {".jpg", ".jpeg"}, CSV: {".csv", ".txt"}}
EVIDENCE_TYPES = (PDF, XLSX, PNG, JPEG)
IMPORT_TYPES = (XLSX, CSV)

MB = 1024 * 1024


def limit(name: str) -> int:
    defaults = {
        "REPORTING_EVIDENCE_MAX_BYTES": 10 * MB,
        "REPORTING_IMPORT_MAX_BYTES": 5 * MB,
        "REPORTING_IMPORT_MAX_ROWS": 20_000,
        "REPORTING_IMPORT_MAX_COLUMNS": 50,
        "REPORTING_IMPORT_MAX_CELL_CHARS": 5000,
        "REPORTING_IMPORT_MAX_TEXT_CHARS": 5_000_000,
        "REPORTING_XLSX_MAX_UNCOMPRESSED_BYTES": 20 * MB,
        "REPORTING_XLSX_MAX_PARTS": 200,
    }
    return int(getattr(settings, name, defaults[name]))


@dataclass(frozen=True)
class CheckedFile:
    kind: str
    content_type: str
    size: int
    sha256: str
    name: str


def _size_text(size: int) -> str:
    return f"{size / MB:.1f} MB" if size >= MB else f"{max(1, size // 1024)} KB"


def sniff(head: bytes) -> str | None:
    """The type of a file from its first bytes; XLSX still needs check_zip()."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"PK\x03\x04"):
        return XLSX
    return None


# What a refused file really is, named for the person who sent it (the first bytes, then a zip's parts).
OTHER_SIGNATURES = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", N_("an old Office document (DOC, XLS or PPT)")),
    (b"GIF8", N_("a GIF image")), (b"II*\x00", N_("a TIFF image")), (b"MM\x00*", N_("a TIFF image")),
    (b"BM", N_("a BMP image")), (b"{\\rtf", N_("an RTF document")), (b"Rar!", N_("a RAR archive")),
    (b"7z\xbc\xaf", N_("a 7-Zip archive")), (b"\x1f\x8b", N_("a gzip archive")), (b"MZ", N_("a program (EXE)")),
)
ZIP_KINDS = (("word/", N_("a Word document (DOCX)")), ("ppt/", N_("a PowerPoint presentation (PPTX)")),
             ("xl/", N_("an Excel workbook (XLSX)")))


def describe(upload) -> str:
    """What the file's content is, in words for a refusal message (translated)."""
    upload.seek(0)
    head = upload.read(4096)
    upload.seek(0)
    kind = sniff(head[:16])
    if kind is not None and kind != XLSX:
        return kind.upper()
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(upload) as archive:
                names = archive.namelist()
        except zipfile.BadZipFile:
            names = []
        finally:
            upload.seek(0)
        for prefix, words in ZIP_KINDS:
            if any(name.startswith(prefix) for name in names):
                return str(_(words))
        return str(_("a zip archive"))
    for signature, words in OTHER_SIGNATURES:
        if head.startswith(signature):
            return str(_(words))
    lowered = head.lstrip().lower()
    if lowered.startswith((b"<!doctype html", b"<html")) or b"<script" in lowered[:200]:
        return str(_("a web page (HTML)"))
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
            return str(_("plain text"))
        except UnicodeDecodeError:
            pass
    return str(_("a file of an unknown type"))


def check_zip(upload) -> None:
    """An XLSX workbook with bounded parts and uncompressed size, read from the zip directory only."""
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            entries = archive.infolist()
            if len(entries) > limit("REPORTING_XLSX_MAX_PARTS"):
                raise ValidationError(_("The workbook has %(count)s parts; at most %(max)s are accepted."),
                                      code="xlsx_parts",
                                      params={"count": len(entries), "max": limit("REPORTING_XLSX_MAX_PARTS")})
            total = sum(entry.file_size for entry in entries)
            if total > limit("REPORTING_XLSX_MAX_UNCOMPRESSED_BYTES"):
                raise ValidationError(
                    _("The workbook unpacks to %(size)s; at most %(max)s are accepted."), code="xlsx_size",
                    params={"size": _size_text(total),
                            "max": _size_text(limit("REPORTING_XLSX_MAX_UNCOMPRESSED_BYTES"))})
            names = {entry.filename for entry in entries}
            if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
                raise ValidationError(_("The file is a zip archive but not an Excel workbook (.xlsx)."),
                                      code="not_xlsx")
    except zipfile.BadZipFile as error:
        raise ValidationError(_("The file is damaged and cannot be read."), code="bad_zip") from error
    finally:
        upload.seek(0)


def check_upload(upload, *, allowed: tuple[str, ...], max_bytes: int) -> CheckedFile:
    """Size, type from content, name agreeing with it; raise ValidationError with a message for the user."""
    size = upload.size
    if size > max_bytes:
        raise ValidationError(_("The file is %(size)s; at most %(max)s are accepted."), code="too_large",
                              params={"size": _size_text(size), "max": _size_text(max_bytes)})
    if size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    kind = sniff(head)
    if kind is None and CSV in allowed:
        kind = CSV if _looks_like_text(upload) else None
        if kind is None and _text_with_nul(upload):
            raise ValidationError(_("The file holds a NUL character, which a CSV file may not hold."), code="nul")
    name = PurePosixPath(str(upload.name or "")).name[-200:]
    accepted = ", ".join(item.upper() for item in allowed)
    if kind not in allowed:
        raise ValidationError(_("“%(name)s” is %(real)s, whatever its name says; accepted are %(accepted)s files."),
                              code="type", params={"name": name, "real": describe(upload), "accepted": accepted})
    if PurePosixPath(name).suffix.lower() not in EXTENSIONS[kind]:
        real = describe(upload)
        if kind == XLSX and real != str(_(ZIP_KINDS[-1][1])):  # a DOCX or a plain zip named .pdf
            raise ValidationError(_("“%(name)s” is %(real)s, whatever its name says; accepted are %(accepted)s "
                                    "files."), code="type", params={"name": name, "real": real, "accepted": accepted})
        raise ValidationError(_("“%(name)s” is a %(kind)s file, but its name ends otherwise; rename it to end in "
                                "%(extensions)s (accepted are %(accepted)s files)."), code="extension",
                              params={"name": name, "kind": kind.upper(), "accepted": accepted,
                                      "extensions": " / ".join(sorted(EXTENSIONS[kind]))})
    if kind == XLSX:
        check_zip(upload)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return CheckedFile(kind=kind, content_type=CONTENT_TYPES[kind], size=size, sha256=digest.hexdigest(), name=name)


def _text_with_nul(upload) -> bool:
    """Whether the file starts as plain UTF-8 or GB18030 text but for NUL bytes (a CSV to refuse with its
    own message, not as a file of the wrong type)."""
    upload.seek(0)
    sample = upload.read(4096)
    upload.seek(0)
    if b"\x00" not in sample:
        return False
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = codecs.getincrementaldecoder(encoding)().decode(sample.replace(b"\x00", b""), final=False)
        except UnicodeDecodeError:
            continue
        return all(char in "\t\n\r" or unicodedata.category(char) != "Cc" for char in text)
    return False


def _looks_like_text(upload) -> bool:
    upload.seek(0)
    sample = upload.read(4096)
    upload.seek(0)
    if b"\x00" in sample:
        return False
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            sample.decode(encoding)
            return True
        except UnicodeDecodeError:
            # The sample may end inside a multi-byte character.
            try:
                sample[:-3].decode(encoding)
                return True
            except UnicodeDecodeError:
                continue
    return False
