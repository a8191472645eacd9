"""Run independent jobs at the same time, each in a forked process.

Used to train the two contenders of a benchmark side by side on a
2-core machine, one torch thread each: small networks use two threads
poorly, so two one-thread trainings finish sooner than two two-thread
ones in a row. ``fork`` lets the children share the parent's recorded
data and models without copying them up front; each child sends back
its result as bytes (``torch.save``), read tensors-only.

A forked child must not use more than one OpenMP thread if the parent
already ran parallel regions (GNU libgomp is not fork-safe), so the
children are pinned to one thread.
"""
from __future__ import annotations

import io
import multiprocessing as mp
import traceback
from typing import Any, Callable

import torch


def _child(job: Callable[[], Any], conn) -> None:
    torch.set_num_threads(1)
    try:
        buffer = io.BytesIO()
        torch.save(job(), buffer)
        conn.send(('ok', buffer.getvalue()))
    except BaseException:  # noqa: BLE001 - reported to the parent
        conn.send(('error', traceback.format_exc()))
    finally:
        conn.close()


def run_forked(jobs: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """``{name: job()}``, every job in its own forked process at once.

    A job returns tensors, numbers, strings, tuples, lists or dicts of
    them (what ``torch.load(weights_only=True)`` reads back). A failing
    job raises ``RuntimeError`` with the child's traceback, after every
    child has ended.
    """
    context = mp.get_context('fork')
    running = {}
    for name, job in jobs.items():
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=_child, args=(job, send),
                                  name=f'forked-{name}', daemon=True)
        process.start()
        send.close()
        running[name] = (process, receive)
    results, errors = {}, []
    for name, (process, receive) in running.items():
        try:
            status, payload = receive.recv()
        except EOFError:
            status, payload = 'error', 'the process died without a result'
        process.join()
        if status == 'ok':
            results[name] = torch.load(io.BytesIO(payload),
                                       weights_only=True)
        else:
            errors.append(f'{name} (exit code {process.exitcode}):\n'
                          f'{payload}')
    if errors:
        raise RuntimeError('forked jobs failed: ' + '\n'.join(errors))
    return results
