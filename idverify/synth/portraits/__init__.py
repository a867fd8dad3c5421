"""Public-domain portraits shipped with the package (see PROVENANCE.md).

>>> sorted(PORTRAITS)
['astronaut', 'grace_hopper']
>>> load_portrait("astronaut").shape[2]
3
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from idverify.media import load_image

_HERE = Path(__file__).resolve().parent
PORTRAITS = {"astronaut": _HERE / "astronaut.png", "grace_hopper": _HERE / "grace_hopper.png"}


def load_portrait(name: str) -> np.ndarray:
    """The RGB pixels of portrait ``name`` (a key of :data:`PORTRAITS`)."""
    return load_image(PORTRAITS[name]).pixels
