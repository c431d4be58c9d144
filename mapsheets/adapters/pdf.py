"""HTML to PDF with WeasyPrint (the only importer of ``weasyprint``; the optional extra `certificate`)."""

from __future__ import annotations

from pathlib import Path

from mapsheets.adapters.files import write_atomic
from mapsheets.errors import UsageError


def write_pdf(html: str, path: Path) -> None:
    try:
        from weasyprint import HTML
    except ImportError:
        raise UsageError("a PDF needs WeasyPrint: pip install 'mapsheets[certificate]' (or write .html)") from None
    write_atomic(path, HTML(string=html).write_pdf())  # readers never see half a file
