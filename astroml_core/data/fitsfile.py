"""Opening a FITS file the same careful way everywhere: a possible path, an existing non-empty file, a size
limit, FITS magic (plain or gzip), readable headers, no HDU cut short, and no decompression bomb. Each
failure is a typed error whose message names the file (never the server's folders) and says what to do.

Headers are read one HDU at a time and each HDU's announced size is checked before the next is read, so a
gzip file whose header announces 1 GB is refused after decompressing a few kilobytes, not 1 GB.
"""
from __future__ import annotations

import gzip
import itertools
import math
import os
import stat
import warnings
import zlib
from pathlib import Path

from astropy.io import fits

from ..errors import (AstroMLError, DecompressionBombError, InvalidFITSError, PathNotAllowedError, TooLargeError,
                      TruncatedFITSError)

__all__ = ["open_fits_checked", "checked_file", "display_name", "one_line", "size_text", "is_gzip",
           "BOMB_FLOOR_BYTES", "MAX_PATH_CHARS", "MAX_NAME_CHARS"]

MAX_PATH_CHARS = 4096          # PATH_MAX on Linux
MAX_NAME_CHARS = 255           # NAME_MAX: one folder or file name
BOMB_FLOOR_BYTES = 64 * 2**20  # below this a compressed file is harmless whatever its ratio
_GZIP_MAGIC = b"\x1f\x8b"
_OTHER_COMPRESSION = {b"BZh": "bzip2", b"PK\x03\x04": "zip", b"\xfd7zXZ": "xz"}
_BITPIX = (8, 16, 32, 64, -32, -64)
_MAX_HEADER_BLOCKS = 360       # 1 MB of header cards: no real header comes near it


def size_text(n: int) -> str:
    """A byte count for people: '1.5 GB', '3.2 MB' or '800 bytes'."""
    if n >= 2**30:
        return f"{n / 2**30:.1f} GB"
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n:,} bytes"


def one_line(text: object, limit: int = 240) -> str:
    """``text`` on one line (whitespace runs collapsed), cut to ``limit`` characters: library messages
    (wcslib's, astropy's) span lines and would break the CLI's one-line errors."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"


def display_name(path: str | os.PathLike) -> str:
    """The file's own name for a message: no folders, NUL bytes shown as \\0, very long names shortened."""
    name = os.path.basename(os.fspath(path)).replace("\0", "\\0") or os.fspath(path).replace("\0", "\\0")
    return name if len(name) <= 80 else f"{name[:60]}… ({len(name):,} characters)"


def checked_file(path: str | os.PathLike, error: type[AstroMLError] = InvalidFITSError) -> Path:
    """``path`` as a Path when it names an existing, non-empty regular file; else a typed error saying why.

    A NUL byte or a path longer than the file system allows raises PathNotAllowedError (no file can have
    that name); a missing, empty or unreadable file, or a folder, raises ``error`` (InvalidFITSError unless
    the caller reads another kind of file).
    """
    text = os.fspath(path)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    name = display_name(text)
    if "\0" in text:
        raise PathNotAllowedError(f"the path '{name}' contains a NUL byte, which no file name can hold: "
                                  "check how the path was typed or pasted")
    longest = max((len(part) for part in Path(text).parts), default=0)
    if len(text) > MAX_PATH_CHARS or longest > MAX_NAME_CHARS:
        raise PathNotAllowedError(f"a path of {len(text):,} characters (longest name {longest:,}) is longer than the "
                                  f"file system allows ({MAX_PATH_CHARS:,} in all, {MAX_NAME_CHARS} per name): "
                                  "check the path")
    p = Path(text)
    try:
        st = p.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise error(f"{name}: no such file; check the path") from None
    except PermissionError:
        raise error(f"{name} cannot be read (permission denied): ask its owner to make it readable") from None
    except OSError as exc:
        raise error(f"{name} cannot be opened ({exc.strerror or one_line(exc)}): check the path") from None
    if stat.S_ISDIR(st.st_mode):
        raise error(f"{name} is a folder, not a file: give the path of a file inside it")
    if not stat.S_ISREG(st.st_mode):
        raise error(f"{name} is not a regular file (a device, pipe or socket): give a file on disk")
    if st.st_size == 0:
        raise error(f"{name} is empty (0 bytes): its copy or download failed; copy it again")
    return p


def _read_head(path: Path, name: str, n: int = 30) -> bytes:
    """The first ``n`` bytes of the file, or InvalidFITSError when it cannot be read."""
    try:
        with open(path, "rb") as fh:
            return fh.read(n)
    except PermissionError:
        raise InvalidFITSError(f"{name} cannot be read (permission denied): ask its owner to make it readable") from None
    except OSError as exc:
        raise InvalidFITSError(f"{name} cannot be read ({exc.strerror or one_line(exc)})") from None


def is_gzip(path: Path) -> bool:
    """True when the file starts with gzip's magic bytes (whatever its suffix says)."""
    with open(path, "rb") as fh:
        return fh.read(2) == _GZIP_MAGIC


def _sniff(path: Path, name: str) -> bool:
    """True for a gzipped FITS file, False for a plain one; InvalidFITSError for anything else."""
    head = _read_head(path, name)
    if head.startswith(_GZIP_MAGIC):
        try:
            with gzip.open(path, "rb") as gz:
                inner = gz.read(30)
        except (OSError, EOFError, zlib.error) as exc:
            raise InvalidFITSError(f"{name} starts like a gzip file but its stream is corrupt ({one_line(exc, 120)}): "
                                   "copy it again, or run gunzip -t on it to check") from None
        if not inner.startswith(b"SIMPLE  ="):
            raise InvalidFITSError(f"{name} is gzip-compressed but what it holds is not a FITS file (it does not "
                                   "start with 'SIMPLE  =')")
        return True
    for magic, kind in _OTHER_COMPRESSION.items():
        if head.startswith(magic):
            raise InvalidFITSError(f"{name} is {kind}-compressed: decompress it first (plain, gzip and "
                                   "tile-compressed FITS files are read)")
    if not head.startswith(b"SIMPLE  ="):
        raise InvalidFITSError(f"{name} is not a FITS file (it does not start with 'SIMPLE  =')")
    return False


def _card_int(header: fits.Header, key: str, name: str, where: str, default: int | None = None) -> int:
    """An integer card, or InvalidFITSError naming the card when it is missing or not an integer."""
    value = header.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidFITSError(f"{name}: {where} has {key} = {value!r}, not an integer; the header is corrupt")
    return value


def _announced_bytes(header: fits.Header, name: str, where: str) -> int:
    """Bytes of data a header announces on disk: |BITPIX|/8 × GCOUNT × (PCOUNT + Π NAXISn)."""
    bitpix = _card_int(header, "BITPIX", name, where)
    if bitpix not in _BITPIX:
        raise InvalidFITSError(f"{name}: {where} has BITPIX = {bitpix}, not a FITS data type "
                               f"({', '.join(map(str, _BITPIX))}); the header is corrupt")
    naxis = _card_int(header, "NAXIS", name, where)
    if not 0 <= naxis <= 999:
        raise InvalidFITSError(f"{name}: {where} has NAXIS = {naxis}, outside 0–999; the header is corrupt")
    if naxis == 0:
        return 0
    dims = [_card_int(header, f"NAXIS{k}", name, where) for k in range(1, naxis + 1)]
    bad = next((k for k, n in enumerate(dims, 1) if n < 0), None)
    if bad is not None:
        raise InvalidFITSError(f"{name}: {where} has NAXIS{bad} = {dims[bad - 1]}, a negative axis length; "
                               "the header is corrupt")
    gcount = _card_int(header, "GCOUNT", name, where, 1)
    pcount = _card_int(header, "PCOUNT", name, where, 0)
    if gcount < 0 or pcount < 0:
        raise InvalidFITSError(f"{name}: {where} has GCOUNT = {gcount}, PCOUNT = {pcount}; the header is corrupt")
    return abs(bitpix) // 8 * gcount * (pcount + math.prod(dims))


def _expanded_bytes(hdu, stored: int) -> int:
    """Bytes the HDU's data takes once decompressed: the image size for a tile-compressed HDU, else as stored."""
    if not isinstance(hdu, fits.CompImageHDU):
        return stored
    bitpix = hdu.header.get("BITPIX", 8)
    return abs(int(bitpix)) // 8 * math.prod(int(n) for n in hdu.shape)


def _stored_header(hdu) -> fits.Header:
    """The header as it is on disk (a tile-compressed HDU's binary table header, not its image header)."""
    table = getattr(hdu, "_bintable", None)
    return table.header if table is not None else hdu.header


def _check_expansion(name: str, on_disk: int, expanded: int, max_bytes: int | None) -> None:
    """Refuse a compressed file that would expand past ``max_bytes`` or past the compression-ratio limit."""
    from ..config import settings

    if max_bytes is not None and expanded > max_bytes:
        raise DecompressionBombError(f"{name} would expand to {size_text(expanded)} when decompressed, above the "
                                     f"limit of {size_text(max_bytes)}; raise ASTROML_MAX_CUBE_GB or cut the file")
    ratio = settings().max_compression_ratio
    if expanded > BOMB_FLOOR_BYTES and expanded > ratio * on_disk:
        raise DecompressionBombError(
            f"{name} would expand from {size_text(on_disk)} to {size_text(expanded)} ({expanded / on_disk:,.0f}×) when "
            f"decompressed; compressed files that expand more than {ratio:g}× are refused as decompression bombs. "
            "If it is genuine, decompress it yourself (gunzip or funpack) and open the result, or raise "
            "ASTROML_MAX_COMPRESSION_RATIO")


def _hdu_label(hdu, index: int) -> str:
    return f"HDU {index}" + (f" ('{hdu.name}')" if hdu.name and hdu.name != "PRIMARY" else "")


def _gzip_header(gz, name: str, index: int) -> fits.Header | None:
    """The next header in a gzip stream, None at the end of the FITS data (EOF, or bytes that are no header)."""
    blocks: list[bytes] = []
    for _ in range(_MAX_HEADER_BLOCKS):
        block = gz.read(2880)
        if len(block) < 2880:
            if not blocks and (not block or index > 0):
                return None
            raise TruncatedFITSError(f"{name} ends inside the header of its HDU {index}: the file is truncated; "
                                     "copy it again")
        if not blocks and index > 0 and not block.startswith(b"XTENSION"):
            return None                            # trailing bytes after the last HDU: ignored, as astropy does
        blocks.append(block)
        if any(block[i:i + 3] == b"END" and not block[i + 3:i + 80].strip() for i in range(0, 2880, 80)):
            try:
                return fits.Header.fromstring(b"".join(blocks).decode("ascii", errors="replace"))
            except Exception as exc:  # astropy raises ValueError, VerifyError on broken cards
                raise InvalidFITSError(f"{name}: the header of HDU {index} cannot be read ({one_line(exc, 160)}); the "
                                       "file is corrupt") from None
    raise InvalidFITSError(f"{name}: the header of HDU {index} has no END card in its first "
                           f"{size_text(_MAX_HEADER_BLOCKS * 2880)}; the file is corrupt")


def _header_expanded(header: fits.Header, stored: int, name: str, where: str) -> int:
    """Bytes an HDU's data takes once decompressed, from its header alone (ZNAXISn × ZBITPIX when tile-compressed)."""
    if not header.get("ZIMAGE", False):
        return stored
    zbitpix = _card_int(header, "ZBITPIX", name, where)
    znaxis = _card_int(header, "ZNAXIS", name, where)
    return abs(zbitpix) // 8 * math.prod(_card_int(header, f"ZNAXIS{k}", name, where) for k in range(1, znaxis + 1))


def _prescan_gzip(path: Path, max_bytes: int | None) -> None:
    """Read a gzipped file's headers one by one, refusing it as soon as what they announce would expand past the
    limits, before astropy (which decompresses each HDU's data as it reads its header) sees it. The data
    between headers is skipped by decompressing it, which the check just made bounds."""
    name, size = path.name, path.stat().st_size
    expanded = 0
    try:
        with gzip.open(path, "rb") as gz:
            for index in itertools.count():
                header = _gzip_header(gz, name, index)
                if header is None:
                    return
                where = f"HDU {index}"
                stored = _announced_bytes(header, name, where)
                expanded += len(header.tostring()) + _header_expanded(header, stored, name, where)
                _check_expansion(name, size, expanded, max_bytes)
                _skip(gz, stored)
                gz.read(-stored % 2880)           # padding: a last HDU without it is tolerated, as astropy does
    except EOFError:
        raise TruncatedFITSError(f"{name}: its gzip stream ends before the data its headers announce; the file is "
                                 "truncated: copy it again") from None
    except (OSError, zlib.error) as exc:
        raise InvalidFITSError(f"{name}: its gzip stream is corrupt ({one_line(exc, 120)}); copy it again, or run "
                               "gunzip -t on it to check") from None


def _skip(gz, n: int) -> None:
    """Decompress and drop ``n`` bytes of the stream (in 16 MB reads); EOFError if it ends first."""
    while n > 0:
        got = len(gz.read(min(n, 16 * 2**20)))
        if got == 0:
            raise EOFError
        n -= got


def _walk(hdul: fits.HDUList, path: Path, gzipped: bool, max_bytes: int | None) -> None:
    """Read every header in turn; before reading the next, check this HDU's data is all there (plain files)
    and that what the file expands to so far stays within the limits (compressed files)."""
    name, size = path.name, path.stat().st_size
    expanded, compressed, end = 0, gzipped, 0
    for index in itertools.count():
        try:
            hdu = hdul[index]
        except IndexError:
            break
        except EOFError:
            raise TruncatedFITSError(f"{name} ends inside its HDU {index}: the file is truncated; copy it again") from None
        except Exception as exc:  # astropy raises OSError, ValueError, VerifyError, KeyError ... on bad headers
            raise InvalidFITSError(f"{name}: the header of HDU {index} cannot be read ({one_line(exc, 160)}); the "
                                   "file is corrupt or truncated") from None
        where = _hdu_label(hdu, index)
        stored = _announced_bytes(_stored_header(hdu), name, where)
        info = hdu.fileinfo()
        end = info["datLoc"] + stored
        if not gzipped and end > size:
            raise TruncatedFITSError(f"{name} is truncated: its {where} announces data up to byte {end:,} but the "
                                     f"file has {size:,} bytes; copy or download it again")
        compressed = compressed or isinstance(hdu, fits.CompImageHDU)
        expanded += info["datLoc"] - info["hdrLoc"] + _expanded_bytes(hdu, stored)
        if compressed:
            _check_expansion(name, size, expanded, max_bytes)
    if not gzipped:
        _check_tail(path, end)


def _check_tail(path: Path, end: int) -> None:
    """A plain file whose bytes after the last complete HDU start another header was cut inside that header
    (astropy would silently drop the HDU, and with it, say, an SDSS file's class and redshift)."""
    padded = -(-end // 2880) * 2880
    with open(path, "rb") as fh:
        fh.seek(padded)
        tail = fh.read(8)
    if tail.startswith(b"XTENSION"):
        raise TruncatedFITSError(f"{path.name} is truncated: it ends inside the header of an extension after byte "
                                 f"{padded:,}; copy or download it again")


def open_fits_checked(path: str | os.PathLike, max_bytes: int | None, *, memmap: bool = True,
                      scale: bool = True) -> fits.HDUList:
    """The HDU list of ``path`` with every header read and checked, or a typed error.

    Parameters
    ----------
    path : a plain, gzipped or tile-compressed FITS file.
    max_bytes : the largest file accepted (None: no limit); a compressed file counts by its expanded size.
    memmap : memory-map the data of a plain file (a gzipped one is never mapped).
    scale : let astropy apply BSCALE/BZERO/BLANK (False when the caller reads raw values and scales them).

    Raises
    ------
    PathNotAllowedError, InvalidFITSError, TruncatedFITSError, TooLargeError, DecompressionBombError.
    """
    path = checked_file(path)
    name, size = path.name, path.stat().st_size
    gzipped = _sniff(path, name)
    if max_bytes is not None and size > max_bytes:
        raise TooLargeError(f"{name} is {size_text(size)}, above the limit of {size_text(max_bytes)}; raise "
                            "ASTROML_MAX_CUBE_GB or cut the file")
    if gzipped:
        _prescan_gzip(path, max_bytes)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            hdul = fits.open(path, memmap=memmap and not gzipped, lazy_load_hdus=True,
                             do_not_scale_image_data=not scale)
    except Exception as exc:  # astropy raises OSError, ValueError, VerifyError, ... on bad headers
        raise InvalidFITSError(f"{name} could not be read as FITS ({one_line(exc, 160)}); the file is corrupt or "
                               "truncated inside its header") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _walk(hdul, path, gzipped, max_bytes)
    except BaseException:
        hdul.close()
        raise
    return hdul
