"""Image folders: one subfolder per class of PNG or JPEG files, read with Pillow.

Every image is resized to one size (``folder:PATH@HxW``; by default the size of the first image),
which the task's name records: ``folder:PATH@32x32``, so that ``train-final`` reads the folder the
same way the search did. Grayscale images stay one channel; if any image has colour, all are read
as RGB. The classes are the subfolders' names, sorted; two of them make a ``binary`` task
(ROC-AUC), as two classes in a CSV do, more a ``classification`` one (accuracy); ``--kind
classification`` keeps two classes on accuracy. Pixel values are 0-255, standardized per channel
with the training images' statistics like every image task.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from rlnas.errors import UserError
from rlnas.tasks.files import IN_MEMORY_BYTES
from rlnas.tasks.task import Kind, Task, make_mapped_task, make_task

SUFFIXES = (".png", ".jpg", ".jpeg")
GRAYSCALE_MODES = ("1", "L", "LA", "I", "I;16", "F")
MAX_IMAGE_BYTES = 256 * 1024**2
"""The most one image may take in memory once read (float64 pixels, channels x height x width),
checked before any is read: about 3300x3300 pixels in colour, 5800x5800 in gray."""
_SIZED = re.compile(r"^(?P<path>.+)@(?P<height>\d+)x(?P<width>\d+)$")


class ImageFileRows:
    """The images of ``files`` as rows (channels, height, width), decoded when read."""

    def __init__(self, files: list[Path], size: tuple[int, int], channels: int) -> None:
        self.files = files
        self.size = size
        self.channels = channels
        self.shape = (len(files), channels, *size)

    def read(self, rows: np.ndarray) -> np.ndarray:
        return np.stack(
            [image_pixels(self.files[int(row)], self.size, self.channels) for row in rows]
        )

    def __getstate__(self) -> dict[str, Any]:
        return dict(vars(self))


def folder_task(
    path_and_size: str, in_memory_bytes: int = IN_MEMORY_BYTES, kind: Kind | None = None
) -> Task:
    """The classification task of the image folder ``PATH`` or ``PATH@HxW`` (see the module):
    ``binary`` for two class folders, like two classes in a CSV, unless ``kind`` says
    ``classification``."""
    sized = _SIZED.match(path_and_size)
    path = Path(sized["path"] if sized else path_and_size)
    if not path.is_dir():
        raise UserError(f"folder:{path}: not a folder (it needs one subfolder per class)")
    classes = sorted(entry for entry in path.iterdir() if entry.is_dir())
    files, labels = [], []
    for folder in classes:
        images = sorted(f for f in folder.iterdir() if f.suffix.lower() in SUFFIXES)
        files += images
        labels += [folder.name] * len(images)
    if len({*labels}) < 2:
        raise UserError(
            f"folder:{path}: needs at least two subfolders (one per class) of PNG or JPEG images"
        )
    modes = set()
    for file in files:
        with _opened(file) as image:
            modes.add(image.mode)
            if file is files[0]:
                first_size = (image.height, image.width)
            image.verify()  # a truncated or damaged file fails here, not in the middle of a search
    size = (int(sized["height"]), int(sized["width"])) if sized else first_size
    if min(size) < 1:
        raise UserError(f"folder:{path}: the image size must be at least 1x1, got {size}")
    channels = 1 if modes <= set(GRAYSCALE_MODES) else 3
    image_bytes = 8 * channels * size[0] * size[1]  # one image as float64, as it is read
    if image_bytes > MAX_IMAGE_BYTES:
        raise UserError(
            f"folder:{path}: images of {size[0]}x{size[1]} pixels need "
            f"{image_bytes / 1024**2:,.0f} MiB each in memory, over the limit of "
            f"{MAX_IMAGE_BYTES / 1024**2:,.0f} MiB; resize "
            f"them smaller with folder:{path}@HxW (e.g. @{min(size[0], 256)}x{min(size[1], 256)})"
        )
    name = f"folder:{path}@{size[0]}x{size[1]}"
    rows = ImageFileRows(files, size, channels)
    y = np.array(labels)
    if 4 * len(files) * channels * size[0] * size[1] <= in_memory_bytes:
        return make_task(name, rows.read(np.arange(len(files))), y, kind)
    return make_mapped_task(name, rows, y, kind)


def image_pixels(file: Path, size: tuple[int, int], channels: int) -> np.ndarray:
    """One image as float64 pixels (channels, height, width), resized to ``size``."""
    from PIL import Image

    with _opened(file) as image:
        image = image.convert("L" if channels == 1 else "RGB")  # decodes: may find damage
        if (image.height, image.width) != size:
            image = image.resize((size[1], size[0]), Image.Resampling.BILINEAR)
        pixels = np.asarray(image, dtype=np.float64)
    return pixels[None] if channels == 1 else pixels.transpose(2, 0, 1)


@contextmanager
def _opened(file: Path) -> Iterator[Any]:
    """``file`` opened with Pillow; a damaged, unknown or oversized image is a UserError."""
    from PIL import Image

    try:
        with Image.open(file) as image:
            yield image
    except Image.DecompressionBombError as error:
        raise UserError(
            f"image {file} is too large to decode safely ({error}); shrink it first"
        ) from None
    except (OSError, SyntaxError, ValueError) as error:  # Pillow's damaged-file errors
        raise UserError(f"image {file} cannot be read ({error}); replace or remove it") from None
