"""benchmarks/checkerboard.py: the measure sees period-2/4 patterns, and
tells a transposed-conv generator from a resize-conv one at init."""
import argparse

import numpy as np
import torch

from benchmarks.checkerboard import build, checkerboard_db


def smooth_image(seed=0, size=64):
    # A random walk in both directions: a steep, smooth spectrum.
    noise = np.random.default_rng(seed).normal(size=(3, size, size))
    return noise.cumsum(1).cumsum(2)


def test_measure_separates_checkerboards_from_smooth_images():
    image = smooth_image()
    plain = checkerboard_db(image)
    for period in (2, 4):
        pattern = image.copy()
        pattern[:, ::period, ::period] += 0.05 * image.std()
        assert checkerboard_db(pattern) > plain + 4, period
    white = np.random.default_rng(1).normal(size=(128, 128))
    assert abs(checkerboard_db(white)) < 3  # flat spectrum: no peak


def test_deconv_generator_scores_higher_than_resize_conv_at_init():
    args = argparse.Namespace(base_channels=8, num_blocks=1, seed=0)
    photo = torch.from_numpy(smooth_image(size=64)[None]).float()
    photo = photo / photo.abs().max()
    scores = {}
    for mode in ('resize_conv', 'deconv'):
        model, _ = build(mode, args)
        with torch.no_grad():
            out = model.generator_a2b.eval()(photo)[0].numpy()
        scores[mode] = checkerboard_db(out)
    assert scores['deconv'] > scores['resize_conv'] + 3, scores
