"""Translate images: the ``Translator`` and what it needs.

* :mod:`.translator`: ``Translator``, ``ModelInfo``, ``init_translator``.
* :mod:`.image_arrays`: pixels in and out of the network (channels,
  alpha, bit depth, resizing, encoding).
* :mod:`.precision`: the inference side of the one precision vocabulary
  (:mod:`mm_cyclegan.engine.precision`).
* :mod:`.translate_files`: folders in, folder out (``tools/translate.py``).

``from mm_cyclegan.apis import Translator`` is the public entry.
"""
