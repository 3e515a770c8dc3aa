"""Report photos: sniff the type from the bytes, strip all metadata (GPS included), re-encode.

Only the pixels survive: the image is decoded, turned upright by its EXIF orientation, shrunk
to a maximum side and written as a fresh JPEG with no EXIF, XMP or ICC blocks.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from geo.errors import InvalidInput, PayloadTooLarge

# Magic numbers of the accepted formats; the client's declared content type is not trusted.
SIGNATURES = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG"}
MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding


def sniff(data: bytes) -> str | None:
    """'JPEG', 'PNG' or 'WEBP' from the leading bytes, else None."""
    for magic, kind in SIGNATURES.items():
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def clean_photo(data: bytes, *, name: str, max_bytes: int, max_side: int) -> bytes:
    """Validate one upload and return it as a metadata-free JPEG."""
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"photo {name!r} is larger than {max_bytes:,} bytes", code="photo_too_large")
    kind = sniff(data)
    if kind is None:
        raise InvalidInput(f"photo {name!r} is not a JPEG, PNG or WebP image", code="photo_type")
    try:
        with Image.open(io.BytesIO(data), formats=[kind]) as image:
            if image.width * image.height > MAX_PIXELS:
                raise InvalidInput(
                    f"photo {name!r} is {image.width}x{image.height} pixels; too large", code="photo_pixels"
                )
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((max_side, max_side))
            pixels = upright.convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise InvalidInput(f"photo {name!r} cannot be decoded as {kind}: {exc}", code="photo_type") from exc
    out = io.BytesIO()
    pixels.save(out, format="JPEG", quality=85, optimize=True)  # no exif= argument: nothing carried over
    return out.getvalue()


def store_photos(photos: list[bytes], *, directory: Path) -> list[str]:
    """Write cleaned photos as ``<directory>/<n>.jpg``; return their paths relative to its parent."""
    directory.mkdir(parents=True, exist_ok=True)
    names = []
    for n, data in enumerate(photos, start=1):
        (directory / f"{n}.jpg").write_bytes(data)
        names.append(f"{directory.name}/{n}.jpg")
    return names


def remove_photos(directory: Path) -> None:
    """Delete a report's photo directory (used when its transaction does not commit)."""
    shutil.rmtree(directory, ignore_errors=True)
