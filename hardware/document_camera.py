"""The document camera port (高拍仪): capture one page of a paper document as an image.

Self-declaration needs the applicant's documents photographed; the flow asks for one page at a
time and shows it before keeping it. Drivers live in hardware/drivers; every method raises only
`CameraError`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod


class CameraError(Exception):
    """The camera could not give a picture (unplugged, busy, failed)."""


class DocumentCamera(ABC):
    """Capture pages as JPEG bytes."""

    @abstractmethod
    def capture(self) -> bytes:
        """One page, as JPEG; raises CameraError."""

    def close(self) -> None:  # noqa: B027 - a default: most drivers hold nothing to release
        """Release the device (nothing to do for most drivers)."""
