"""Pictures kept as CI artefacts under var/screenshots/: pages of the PDFs the tests render
(pdftoppm, Debian's poppler-utils) and the browser tests' screenshots."""

import shutil
import subprocess
from pathlib import Path

SCREENSHOTS = Path(__file__).resolve().parents[1] / "var" / "screenshots"


def screenshot_path(name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / name


def pdf_page_png(pdf: bytes, name: str, *, page: int = 1) -> Path | None:
    """Save page `page` of the PDF as var/screenshots/<name>.png (None without pdftoppm)."""
    if shutil.which("pdftoppm") is None:
        return None
    target = screenshot_path(name)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "70",
            "-f",
            str(page),
            "-l",
            str(page),
            "-singlefile",
            "-",
            str(target),
        ],
        input=pdf,
        check=True,
        capture_output=True,
    )
    return target.with_suffix(".png")
