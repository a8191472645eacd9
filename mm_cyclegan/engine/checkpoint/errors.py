"""The checkpoint format number and the errors of reading checkpoints."""
from __future__ import annotations

from typing import Mapping, Sequence

#: Stored under ``'mm_cyclegan_format'``; 2 = plain (weights_only) form.
CHECKPOINT_FORMAT = 2

#: The checkpoint key holding :data:`CHECKPOINT_FORMAT`; not a weight.
FORMAT_KEY = 'mm_cyclegan_format'


class LoadedCheckpoint(dict):
    """A checkpoint as :func:`read_checkpoint` returns it: the file's dict,
    plus ``ignored_types``, the objects tensors-only reading left out
    (empty for a plain file)."""

    def __init__(self, data: Mapping,
                 ignored_types: Sequence[str] = ()) -> None:
        super().__init__(data)
        self.ignored_types = list(ignored_types)


class CheckpointError(ValueError):
    """A checkpoint cannot be used; the message says why."""


class UnsafeCheckpointError(CheckpointError):
    """A checkpoint holds objects that tensors-only loading refuses."""


class CheckpointMismatchError(CheckpointError):
    """A checkpoint's weights do not fit the model (keys or shapes)."""


class DamagedCheckpointError(CheckpointError):
    """A checkpoint file is truncated or not a checkpoint at all."""


class NonFiniteCheckpointError(RuntimeError):
    """The weights to be saved hold NaN or inf; nothing was written."""
