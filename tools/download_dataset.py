#!/usr/bin/env python
"""Download a classic CycleGAN dataset into ``data/<name>/``.

    python tools/download_dataset.py horse2zebra [--root data] [--url URL]
        [--sha256 HEX] [--force]

Known names: apple2orange, summer2winter_yosemite, horse2zebra, monet2photo,
cezanne2photo, ukiyoe2photo, vangogh2photo, maps, cityscapes, facades,
iphone2dslr_flower, ae_photos. The logic lives in
:mod:`mm_cyclegan.datasets.download`.
"""
import sys

from mm_cyclegan.datasets.download import main

if __name__ == '__main__':
    sys.exit(main())
