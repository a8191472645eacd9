"""What a run prints on the console (the log file keeps everything).

MMEngine's Runner logs the environment (~30 lines), the whole config
(~150) and the hook table (~70) before the first iteration. They belong in
the run's log file, where they are kept; on the console they bury the lines
a user reads. :func:`quiet_console` drops those three records from the
console handlers of a logger; ``tools/train.py --verbose`` (or
:func:`set_verbose`) keeps them.
"""
from __future__ import annotations

import logging

__all__ = ['FILE_ONLY_PREFIXES', 'FileOnlyFilter', 'is_verbose',
           'quiet_console', 'set_verbose']

#: Starts of the messages that go to the log file only (MMEngine 0.10's
#: ``Runner._log_env`` and ``Runner.__init__``).
FILE_ONLY_PREFIXES = (
    '\n' + '-' * 60 + '\nSystem environment:',
    'Config:\n',
    'Hooks will be executed in the following order:',
    # Runner.wrap_model on one process: about SyncBN, which no recipe uses.
    'Distributed training is not used, all SyncBatchNorm',
)

_VERBOSE = [False]


def set_verbose(verbose: bool) -> None:
    """Print environment, config and hooks on the console too (runners
    built from now on in this process)."""
    _VERBOSE[0] = bool(verbose)


def is_verbose() -> bool:
    """Whether :func:`set_verbose` asked for the full start-up log."""
    return _VERBOSE[0]


class FileOnlyFilter(logging.Filter):
    """Rejects the records of :data:`FILE_ONLY_PREFIXES`."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.msg if isinstance(record.msg, str) else ''
        return not message.startswith(FILE_ONLY_PREFIXES)


def _is_console(handler: logging.Handler) -> bool:
    return (isinstance(handler, logging.StreamHandler)
            and not isinstance(handler, logging.FileHandler))


def quiet_console(logger: logging.Logger,
                  verbose: bool | None = None) -> None:
    """Attach :class:`FileOnlyFilter` to ``logger``'s console handlers
    (idempotent); with ``verbose`` (default: :func:`is_verbose`) remove it.
    File handlers are left alone."""
    verbose = is_verbose() if verbose is None else verbose
    for handler in logger.handlers:
        if not _is_console(handler):
            continue
        present = [f for f in handler.filters
                   if isinstance(f, FileOnlyFilter)]
        if verbose:
            for found in present:
                handler.removeFilter(found)
        elif not present:
            handler.addFilter(FileOnlyFilter())
