"""Report photos: sniff the type from the bytes, strip all metadata (GPS included), re-encode.

Only the pixels survive: the image's declared size is checked before any pixel is decoded
(decompression bombs), then it is decoded, turned upright by its EXIF orientation, converted to
sRGB when it carries a colour profile, shrunk to a maximum side, copied into a new image (so no
``info`` travels with it) and written as a fresh baseline JPEG: no EXIF, XMP, ICC, comment or
other application segment.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

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
            # Image.open reads only the header: the declared size, before a pixel is decoded.
            if image.width * image.height > MAX_PIXELS:
                raise InvalidInput(
                    f"photo {name!r} declares {image.width}x{image.height} pixels; the limit is "
                    f"{MAX_PIXELS:,} pixels (a decompression bomb, or a photo to shrink first)",
                    code="photo_pixels",
                )
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((max_side, max_side))
            pixels = _srgb(upright, image.info.get("icc_profile"))
    except Image.DecompressionBombError as exc:  # Pillow's own guard, checked in open() for huge sizes
        raise InvalidInput(
            f"photo {name!r} declares too many pixels; the limit is {MAX_PIXELS:,} pixels (a decompression bomb, "
            f"or a photo to shrink first): {exc}",
            code="photo_pixels",
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidInput(f"photo {name!r} cannot be decoded as {kind}: {exc}", code="photo_type") from exc
    bare = Image.new("RGB", pixels.size)  # a new image: none of the original's info (comment, XMP, ICC)
    bare.paste(pixels)
    out = io.BytesIO()
    bare.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()


def _srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """The image's pixels in RGB, converted from its embedded colour profile to sRGB (then dropped)."""
    rgb = image.convert("RGB")
    if not icc_profile:
        return rgb
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        converted = ImageCms.profileToProfile(rgb, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
    except (ImageCms.PyCMSError, OSError):
        return rgb  # a broken profile: keep the pixels as they are
    return converted or rgb


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
