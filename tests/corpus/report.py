"""What ``astroml info`` makes of every corpus file: ``python -m tests.corpus.report`` prints a markdown table
(key, what, kind found by :func:`astroml_core.data.sniff.kind_of`, outcome: opened with a one-line summary, or
refused with the message), for the issue's closing note.

Header-only corpus files (``.hdr`` text) are written as FITS with their header and zero data of their shape:
the data block is a sparse file, so a 3.9 GB CASA cube costs a few kilobytes of disk.
"""
from __future__ import annotations

import contextlib
import io
import sys
import tempfile
from pathlib import Path

from astropy.io import fits

from .files import CORPUS, CorpusFile, corpus_path

__all__ = ["target", "header_fits", "run_info", "outcome", "main"]

_STRUCTURE = ("SIMPLE", "BITPIX", "NAXIS", "EXTEND", "END")


def header_fits(source: Path, out: Path) -> Path:
    """A FITS file at ``out`` with the header of the text file ``source`` and zero data of its shape (sparse)."""
    text = fits.Header.fromtextfile(source)
    naxis = int(text["NAXIS"])
    header = fits.Header([("SIMPLE", True), ("BITPIX", int(text.get("BITPIX", -32))), ("NAXIS", naxis)])
    for i in range(1, naxis + 1):
        header[f"NAXIS{i}"] = int(text[f"NAXIS{i}"])
    for card in text.cards:
        if card.keyword not in _STRUCTURE and not (card.keyword.startswith("NAXIS") and card.keyword[5:].isdigit()):
            header.append(card)
    n = abs(header["BITPIX"]) // 8
    for i in range(1, naxis + 1):
        n *= header[f"NAXIS{i}"]
    head = header.tostring().encode("ascii")
    with open(out, "wb") as fh:
        fh.write(head)
        fh.truncate(len(head) + -(-n // 2880) * 2880)
    return out


def target(item: CorpusFile, workdir: Path) -> Path:
    """The path ``astroml info`` is run on for corpus file ``item``."""
    path = corpus_path(item.key)
    if item.kind == "header":
        return header_fits(path, workdir / f"{item.key}.fits")
    return path


def run_info(path: Path, *args: str) -> tuple[int, str, str]:
    """``astroml info path [args]`` in this process: (status, stdout, stderr)."""
    from astroml_core.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(["info", str(path), *args])
    return rc, out.getvalue(), err.getvalue()


def _kind(path: Path) -> str:
    from astroml_core.data.sniff import kind_of
    from astroml_core.errors import AstroMLError

    try:
        return kind_of(path)
    except AstroMLError as exc:
        return f"refused ({type(exc).__name__})"


def outcome(rc: int, out: str, err: str) -> str:
    """One line: ``opened: <summary>`` or ``refused: <message>`` (a bug says so)."""
    if rc == 0:
        lines = out.splitlines()
        body = [line.split(": ", 1)[1] if line.startswith("/") or ":" in line[:3] else line for line in lines[1:]]
        notes = sum(line.startswith("note:") for line in err.splitlines())
        return "opened: " + "; ".join(body) + (f" ({notes} notes)" if notes else "")
    message = next((line for line in err.splitlines() if line.startswith("error:")), err.strip())
    return ("refused: " if rc == 2 else f"BUG (status {rc}): ") + message.removeprefix("error: ")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def main() -> int:
    print("| key | what | kind (sniffed) | `astroml info` |")
    print("| --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        for item in CORPUS:
            path = target(item, Path(tmp))
            kind = _kind(path)
            print(f"| {item.key} | {_cell(item.what)} | {kind} | {_cell(outcome(*run_info(path)))} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
