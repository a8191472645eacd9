# tiny_image_folder over horse2zebra, with FID/KID evaluation on the real
# test photos: every 2 iterations, a handful of images per domain
# (max_samples) and a small
# Inception input (80 px) so that it runs in seconds on CPU. The weights
# file comes from $MM_CYCLEGAN_INCEPTION (the test writes a random one).
_base_ = ['tiny_image_folder.py']

_test = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='UnpairedEpochSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='UnpairedImageDataset',
        data_root='../shared/data/horse2zebra',
        split='test',
        preprocess='resize_and_crop',
        load_size=64,
        crop_size=64))
_metric = dict(type='TranslationMetric', missing_weights='fallback',
               input_size=80, max_samples=4, kid_subsets=10)
val_dataloader = _test
test_dataloader = _test
val_evaluator = _metric
test_evaluator = _metric
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
train_cfg = dict(max_iters=6, val_interval=2)
param_scheduler = [dict(type='LinearDecayLR', by_epoch=False,
                        decay_start_fraction=0.5)]
default_hooks = dict(checkpoint=dict(interval=2, save_best='auto',
                                     rule='less'))
