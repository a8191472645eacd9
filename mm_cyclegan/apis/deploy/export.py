"""Export one generator to ONNX or TorchScript, checked against PyTorch.

The exported graph takes ``(N, C, H, W)`` float32 in [-1, 1] of **any**
batch, height and width: it reflect-pads to the generator's multiple and
crops back inside the graph (:class:`PaddedGenerator`), so callers need no
knowledge of the network.

* ONNX uses PyTorch's TorchScript-based exporter (``dynamo=False``, opset
  17, ``dynamic_axes`` on N, H, W). Its warning "ONNX export mode is set to
  TrainingMode.EVAL, but operator 'instance_norm' is set to train=True" is
  harmless here: instance norm without running statistics normalises by
  the statistics of the input in both modes, and the exported
  ``InstanceNormalization`` op does exactly that. The parity check after
  export is what makes this claim: it fails the export otherwise.
  (The torch.export-based exporter lowers instance norm to a training-mode
  batch norm and needs onnxscript; the TorchScript one does not.)
* TorchScript is ``torch.jit.trace`` of the same wrapper; sizes are traced
  as graph values, so H and W stay dynamic. (``torch.export`` refused the
  padding arithmetic's guards with dynamic H/W in torch 2.14.) mmcv names
  an instance-norm submodule ``in``, a Python keyword that TorchScript can
  save but not load back, so the traced copy renames it.

Both are run after export on two input sizes and compared with the PyTorch
generator (through :meth:`Translator.translate_tensor`): max |diff| must be
<= ``atol`` (1e-4 by default).
"""
from __future__ import annotations

import copy
import json
import os
import os.path as osp
import warnings
from typing import Callable, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mm_cyclegan.apis.inference.translator import Translator
from mm_cyclegan.datasets.padding import padding_for
from mm_cyclegan.utils.validation import check_choice, check_int

FORMATS = ('onnx', 'torchscript')
ONNX_OPSET = 17
INPUT_NAME = 'image'
OUTPUT_NAME = 'translated'


class ExportParityError(RuntimeError):
    """The exported model's output differs from PyTorch's beyond atol."""


class PaddedGenerator(nn.Module):
    """A generator that accepts any H x W: reflect-pad, run, crop back.

    The padding is split as the dataset's ``pad_to_multiple`` splits it
    (the extra pixel to the bottom / right), so outputs match
    :class:`~mm_cyclegan.apis.Translator` exactly.
    """

    def __init__(self, generator: nn.Module, multiple: int) -> None:
        super().__init__()
        self.generator = generator
        self.multiple = int(multiple)

    def forward(self, x: Tensor) -> Tensor:
        """Translate ``(N, C, H, W)`` in [-1, 1] of any H, W."""
        height, width = x.shape[-2], x.shape[-1]
        # Traced sizes stay symbolic: padding_for is plain arithmetic here.
        top, bottom, left, right = padding_for(height, width, self.multiple)
        x = F.pad(x, (left, right, top, bottom), mode='reflect')
        y = self.generator(x)
        return y[:, :, top:top + height, left:left + width]


def _scriptable_copy(module: nn.Module) -> nn.Module:
    """A copy whose submodule names TorchScript can load back."""
    module = copy.deepcopy(module)
    for sub in module.modules():
        if 'in' in sub._modules and hasattr(sub, 'norm_name'):
            sub.add_module('norm_in', sub._modules.pop('in'))
            sub.norm_name = 'norm_in'
    return module


def check_sizes(channels: int, multiple: int) -> list:
    """Two different input shapes for the parity check.

    The second has another batch size and H, W that are not multiples, so
    the in-graph padding is exercised too.
    """
    side = max(64, multiple)
    return [(1, channels, side, side),
            (2, channels, side - side // 4 - 1, side + side // 2 + 3)]


def metadata(translator: Translator, direction: str) -> dict:
    """What a user of the exported file needs to know about it."""
    info = translator.info
    name_a, name_b = info.domains
    src, dst = (name_a, name_b) if direction == 'a2b' else (name_b, name_a)
    return {
        'format': 'mm_cyclegan.export',
        'direction': direction,
        'translation': f'{src} -> {dst}',
        'input': f'{INPUT_NAME}: float32 (N, '
        f'{translator.in_channels(direction)}, H, W), RGB (or gray) scaled '
        'to [-1, 1]: x / 255 * 2 - 1',
        'output': f'{OUTPUT_NAME}: float32 (N, '
        f'{translator.out_channels(direction)}, H, W) in [-1, 1]',
        'architecture': info.architecture[direction],
        'iterations': info.iterations,
        'source': osp.basename(info.source),
    }


def _parity(run: Callable[[np.ndarray], np.ndarray],
            translator: Translator, direction: str,
            sizes: Sequence[tuple], atol: float, seed: int = 0) -> list:
    generator = torch.Generator().manual_seed(seed)
    report = []
    for shape in sizes:
        x = torch.rand(*shape, generator=generator) * 2 - 1
        expected = translator.translate_tensor(x, direction).numpy()
        got = run(x.numpy())
        if got.shape != expected.shape:
            raise ExportParityError(
                f'exported model returned shape {got.shape} for input '
                f'{shape}, PyTorch {expected.shape}')
        diff = float(np.abs(got - expected).max())
        report.append((tuple(shape), diff))
        if not diff <= atol:
            raise ExportParityError(
                f'exported model differs from PyTorch by max |diff| = '
                f'{diff:.3g} > {atol:g} on input {tuple(shape)}')
    return report


def _fp32(translator: Translator) -> Translator:
    if translator.precision == 'fp32' and translator.device.type == 'cpu':
        return translator
    return Translator(
        {d: copy.deepcopy(translator.generator(d)).float().cpu()
         for d in translator.directions}, translator.info,
        translator.direction, 'cpu', 'fp32')


def export_onnx(translator: Translator, out: str,
                direction: Optional[str] = None,
                opset: int = ONNX_OPSET, atol: float = 1e-4) -> list:
    """Write ``out`` (.onnx) and check it with onnxruntime.

    Returns ``[(input shape, max |diff|), ...]`` of the two checks; raises
    :class:`ExportParityError` (after removing ``out``) when one fails.
    """
    import onnx
    import onnxruntime as ort
    check_int('opset', opset, minimum=17)
    translator = _fp32(translator)
    direction = translator.resolve_direction(direction)
    channels = translator.in_channels(direction)
    multiple = translator.multiple(direction)
    wrapper = PaddedGenerator(translator.generator(direction),
                              multiple).eval()
    sizes = check_sizes(channels, multiple)
    example = torch.zeros(sizes[0])
    axes = {0: 'batch', 2: 'height', 3: 'width'}
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    with warnings.catch_warnings():
        # Tracing warnings (shape checks, the instance-norm training flag)
        # are checked by the parity test below instead.
        warnings.simplefilter('ignore')
        torch.onnx.export(
            wrapper, (example, ), out, input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: axes, OUTPUT_NAME: axes},
            opset_version=opset, dynamo=False)
    model = onnx.load(out)
    for key, value in metadata(translator, direction).items():
        entry = model.metadata_props.add()
        entry.key = key
        entry.value = value if isinstance(value, str) else json.dumps(value)
    onnx.save(model, out)
    session = ort.InferenceSession(out, providers=['CPUExecutionProvider'])

    def run(x: np.ndarray) -> np.ndarray:
        return session.run(None, {INPUT_NAME: x})[0]

    try:
        return _parity(run, translator, direction, sizes, atol)
    except ExportParityError:
        os.remove(out)
        raise


def export_torchscript(translator: Translator, out: str,
                       direction: Optional[str] = None,
                       atol: float = 1e-4) -> list:
    """Write ``out`` (TorchScript, ``torch.jit.load``-able) and check it.

    Returns and raises as :func:`export_onnx`.
    """
    translator = _fp32(translator)
    direction = translator.resolve_direction(direction)
    channels = translator.in_channels(direction)
    multiple = translator.multiple(direction)
    wrapper = _scriptable_copy(
        PaddedGenerator(translator.generator(direction), multiple).eval())
    sizes = check_sizes(channels, multiple)
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter('ignore')
        # Our own parity check below replaces trace checking.
        traced = torch.jit.trace(wrapper, torch.zeros(sizes[0]),
                                 check_trace=False)
    extra = {'metadata.json': json.dumps(metadata(translator, direction))}
    with warnings.catch_warnings():
        # torch 2.14 flags TorchScript as deprecated; it still works and
        # loads without this package (torch.export could not keep H, W
        # dynamic here).
        warnings.simplefilter('ignore', FutureWarning)
        torch.jit.save(traced, out, _extra_files=extra)
        loaded = torch.jit.load(out, map_location='cpu')

    def run(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return loaded(torch.from_numpy(x)).numpy()

    try:
        return _parity(run, translator, direction, sizes, atol)
    except ExportParityError:
        os.remove(out)
        raise


def export(translator: Translator, out: str, fmt: str = 'onnx',
           direction: Optional[str] = None, atol: float = 1e-4) -> list:
    """Export to ``fmt`` (``'onnx'`` or ``'torchscript'``); see above."""
    check_choice('format', fmt, FORMATS)
    if fmt == 'onnx':
        return export_onnx(translator, out, direction, atol=atol)
    return export_torchscript(translator, out, direction, atol=atol)
