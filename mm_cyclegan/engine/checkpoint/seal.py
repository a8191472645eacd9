"""Sealing a checkpoint before it is written: finite, plain, versioned."""
from __future__ import annotations

from .errors import CHECKPOINT_FORMAT, FORMAT_KEY, NonFiniteCheckpointError
from .plain import encode_state
from .weights import non_finite_tensors


def seal_checkpoint(checkpoint: dict, name: str = 'checkpoint') -> None:
    """Make ``checkpoint`` (every hook has added its state) plain, in
    place, and stamp it with :data:`CHECKPOINT_FORMAT`.

    Raises :class:`NonFiniteCheckpointError` naming the file (``name``)
    when a weight holds NaN/inf, and ``TypeError`` (from
    :func:`encode_state`) for a value ``weights_only`` could not load; in
    both cases nothing should be written.
    """
    bad = non_finite_tensors(checkpoint.get('state_dict', {}))
    if bad:
        raise NonFiniteCheckpointError(
            f'Not writing {name}: {len(bad)} weight tensor(s) hold NaN '
            f'or inf (e.g. {", ".join(bad[:3])}). Training diverged; '
            'the earlier checkpoints are kept. Lower the learning rate '
            'or resume from an earlier checkpoint.')
    plain = encode_state(checkpoint)
    checkpoint.clear()
    checkpoint.update(plain)
    checkpoint[FORMAT_KEY] = CHECKPOINT_FORMAT
