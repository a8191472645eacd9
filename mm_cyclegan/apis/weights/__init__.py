"""Weights in and out, one module per format.

* :mod:`.kinds`: what every format shares (``KINDS``, ``LoadedWeights``,
  the errors, tensors-only reading, provenance hashes).
* :mod:`.architecture`: network configs inferred from keys; strict loading.
* :mod:`.ours`: our checkpoints (read; ``convert_checkpoint`` writes them).
* :mod:`.published`: the slim ``model.safetensors`` (``publish`` writes,
  ``read_published`` reads).
* :mod:`.junyanz`, :mod:`.mmagic`: the reference implementation's and
  MMagic's weights (recognise, convert, read).
* :mod:`.load`: ``load_weights``, the dispatcher over all of them.

``from mm_cyclegan.apis import load_weights`` is the public entry.
"""
