"""Checkpoint policy: what our checkpoints hold and how they are read.

Our runner writes every checkpoint in *plain* form: tensors, ``dict``,
``list``, ``tuple``, ``str``, ``int``, ``float``, ``bool`` and ``None``.
The few other objects a training state holds (MMEngine's message-hub
``HistoryBuffer``, numpy arrays such as the NumPy RNG state, numpy scalars)
are converted to tagged dicts on save (:func:`encode_state`) and rebuilt on
load (:func:`decode_state`). So every file is read with
``torch.load(weights_only=True)``: nothing in a checkpoint can run code.

* :func:`read_checkpoint` with ``purpose='resume'`` accepts only such plain
  zip-format files; anything else (a legacy pre-zip file, an older
  full-pickle checkpoint, a planted payload) is refused with
  :class:`UnsafeCheckpointError`, naming the reason.
* With ``purpose='weights'`` (``load_from``, ``tools/test.py``,
  translation) a file that needs other types is read *tensors-only*: an
  unpickler that builds tensors and containers and replaces every other
  object by an inert placeholder (no constructor, no function of the file
  is ever called); the names of what was ignored are reported. The other
  pickles of a legacy file (magic number, protocol, system info, storage
  keys) must be plain data: any global in them is refused. Tar-format
  (PyTorch < 0.4) files and TorchScript archives are refused.
* A work dir's ``last_checkpoint`` names a file inside it, by its path
  relative to it (:func:`write_checkpoint_pointer`); it is read by one
  rule (:func:`read_checkpoint_pointer`) for auto-resume, translation and
  the page alike.
* :func:`seal_checkpoint` makes a checkpoint plain (and refuses NaN/inf
  weights) before the runner writes it.
* :func:`load_model_weights` loads a state dict into a model strictly:
  missing, unexpected and shape-mismatched keys are an error that lists them
  and names the checkpoint (and the config), unless a partial load is asked
  for explicitly.

One concern per module: :mod:`.plain` (the tagged form),
:mod:`.unpickler` (the code-free unpicklers), :mod:`.reader` (reading a
file), :mod:`.pointer` (a work dir's checkpoints), :mod:`.weights` (the
strict loader), :mod:`.seal` (before writing).
"""
from .errors import (
    CHECKPOINT_FORMAT,
    FORMAT_KEY,
    CheckpointError,
    CheckpointMismatchError,
    DamagedCheckpointError,
    LoadedCheckpoint,
    NonFiniteCheckpointError,
    UnsafeCheckpointError,
)
from .plain import decode_state, encode_state
from .pointer import (
    POINTER_NAME,
    find_resumable_checkpoint,
    keep_damaged,
    read_checkpoint_pointer,
    write_checkpoint_pointer,
)
from .reader import checkpoint_damage, is_intact_checkpoint, read_checkpoint
from .seal import seal_checkpoint
from .weights import (
    LoadReport,
    check_state_dict_tensors,
    compare_state_dicts,
    load_model_weights,
    non_finite_tensors,
    strip_module_prefix,
)

__all__ = [
    'CHECKPOINT_FORMAT', 'CheckpointError', 'CheckpointMismatchError',
    'DamagedCheckpointError', 'FORMAT_KEY', 'LoadReport', 'LoadedCheckpoint',
    'NonFiniteCheckpointError', 'POINTER_NAME', 'UnsafeCheckpointError',
    'check_state_dict_tensors', 'checkpoint_damage', 'compare_state_dicts',
    'decode_state', 'encode_state', 'find_resumable_checkpoint',
    'is_intact_checkpoint', 'keep_damaged', 'load_model_weights',
    'non_finite_tensors', 'read_checkpoint', 'read_checkpoint_pointer',
    'seal_checkpoint', 'strip_module_prefix', 'write_checkpoint_pointer'
]
