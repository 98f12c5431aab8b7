"""A report's photo: judged by its content (JPEG, PNG or WebP as Pillow reads it, whatever the
declared type or file name), bounded in bytes and in pixels before it is decoded, decoded
whole (a truncated or damaged file is refused), and stored re-encoded from its pixels: no EXIF
(GPS position, camera, owner), XMP, ICC or text chunks survive, nor anything appended to the
file. The orientation the camera recorded is applied first, so the photo still stands up."""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from gis.submissions import SubmissionError

FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
MAX_SIDE = 2560  # stored photos are scaled down to this many pixels on their long side


@dataclass(frozen=True)
class Photo:
    content: bytes
    media_type: str
    width: int
    height: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def _too_large(en: str, vi: str) -> SubmissionError:
    return SubmissionError(en, vi, status=413, code="PhotoTooLarge", field="photo")


def clean(data: bytes, max_bytes: int, max_pixels: int) -> Photo:
    if len(data) > max_bytes:
        raise _too_large(f"photo: {len(data):,} bytes; at most {max_bytes:,} are accepted",
                         f"ảnh: {len(data):,} byte; tối đa {max_bytes:,} byte")
    try:
        with Image.open(io.BytesIO(data), formats=list(FORMATS)) as im:
            fmt = im.format
            width, height = im.size
            if width * height > max_pixels:
                raise _too_large(f"photo: {width}×{height} pixels; at most {max_pixels:,} "
                                 "pixels are accepted",
                                 f"ảnh: {width}×{height} điểm ảnh; tối đa {max_pixels:,}")
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                im.load()  # decode it all: a damaged file fails here, not when shown
            upright = ImageOps.exif_transpose(im)
    except SubmissionError:
        raise
    except UnidentifiedImageError:
        raise SubmissionError("photo: not a JPEG, PNG or WebP image (judged by its content, "
                              "not its name or declared type)",
                              "ảnh: không phải ảnh JPEG, PNG hoặc WebP (xét theo nội dung tệp, "
                              "không theo tên hay kiểu khai báo)", status=415,
                              code="UnsupportedPhoto", field="photo") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_large("photo: too many pixels", "ảnh: quá nhiều điểm ảnh") from None
    except Exception:  # truncated, corrupt, a decoder's refusal: the file is not usable
        raise SubmissionError("photo: the image is damaged or incomplete and cannot be read",
                              "ảnh: tệp ảnh bị hỏng hoặc không đầy đủ, không đọc được",
                              code="DamagedPhoto", field="photo") from None
    return _encode(upright, fmt)


def _encode(im: Image.Image, fmt: str) -> Photo:
    im.thumbnail((MAX_SIDE, MAX_SIDE))
    # plugins may write what the image's info still holds (exif, xmp, icc_profile, text):
    # only the pixels, and a palette's transparent index, go on
    transparency = im.info.get("transparency") if im.mode == "P" else None
    im.info = {} if transparency is None else {"transparency": transparency}
    out = io.BytesIO()
    if fmt == "JPEG":
        if im.mode not in ("RGB", "L"):
            im = im.convert("RGB")
        im.save(out, "JPEG", quality=85)
    elif fmt == "PNG":
        if im.mode not in ("RGB", "RGBA", "L", "LA", "P"):
            im = im.convert("RGBA")
        im.save(out, "PNG", optimize=False)
    else:
        if im.mode not in ("RGB", "RGBA"):
            im = im.convert("RGBA" if "A" in im.mode else "RGB")
        im.save(out, "WEBP", quality=85)
    return Photo(out.getvalue(), FORMATS[fmt], im.width, im.height)
