"""Opening an image someone hands the terminal (a photographed receipt), within bounds.

A file that is not a regular file, is larger than a photo, claims more pixels than a camera
makes (a decompression bomb: a few kB of PNG that unpacks to gigabytes) or does not decode
is refused with one line, before it is decoded into memory.
"""

from __future__ import annotations

import os
import stat
import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError

MAX_IMAGE_BYTES = 32 << 20  # a 50-megapixel JPEG is ~20 MB
MAX_IMAGE_PIXELS = 50_000_000  # a phone or document camera (高拍仪) photo is 12-50 MP


class ImageRefused(ValueError):
    """The image cannot be used; the message says why in one line (and names the file)."""


def open_gray(path: str | Path, max_bytes: int = MAX_IMAGE_BYTES,
              max_pixels: int = MAX_IMAGE_PIXELS) -> Image.Image:
    """The image at `path`, decoded to 8-bit gray; ImageRefused when it is not a sane image."""
    try:
        info = os.stat(path)
    except OSError as err:
        raise ImageRefused(f"{path}: cannot read the image: {err.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ImageRefused(f"{path}: not a regular file")
    if info.st_size > max_bytes:
        raise ImageRefused(f"{path}: too large for a photo ({info.st_size} bytes, "
                           f"at most {max_bytes})")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise ImageRefused(f"{path}: {width}x{height} pixels is more than a photo "
                                       f"has (at most {max_pixels}); not decoded")
                return image.convert("L")
    except ImageRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRefused(f"{path}: too many pixels for a photo; not decoded") from None
    except UnidentifiedImageError:
        raise ImageRefused(f"{path}: not an image this terminal can read") from None
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as err:
        # Pillow reports truncated or corrupt data with any of these
        raise ImageRefused(f"{path}: cannot read the image ({err.__class__.__name__})") from None
