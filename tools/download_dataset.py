#!/usr/bin/env python
"""Download a CycleGAN dataset into ``data/<name>/``.

    python tools/download_dataset.py horse2zebra [--root data] [--url URL]
        [--sha256 HEX] [--force] [--max-total-size 6G]
        [--max-member-size 256M] [--max-ratio 100]
    python tools/download_dataset.py photo2anime
        [--style hayao|shinkai|paprika] [--sha256 HEX]

Known names: apple2orange, summer2winter_yosemite, horse2zebra, monet2photo,
cezanne2photo, ukiyoe2photo, vangogh2photo, maps, cityscapes, facades,
iphone2dslr_flower, ae_photos, and photo2anime (the AnimeGAN training set,
non-commercial research only; its size and checksum are not published, so
they cannot be checked here: pass --sha256 to pin the file). The logic
lives in :mod:`mm_cyclegan.datasets.download`.
"""
import sys

from mm_cyclegan.datasets.download_cli import main

if __name__ == '__main__':
    sys.exit(main())
