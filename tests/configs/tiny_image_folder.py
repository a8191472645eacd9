# Tiny CycleGAN on an image folder at 64 px (integration test). data_root
# must be given (tests write random PNGs with helpers.make_image_folder).
_base_ = ['tiny_procedural.py']

train_dataloader = dict(
    num_workers=2,
    persistent_workers=True,
    dataset=dict(
        _delete_=True,
        type='UnpairedImageDataset',
        data_root=None,
        split='train',
        preprocess='resize_and_crop',
        load_size=72,
        crop_size=64))
train_cfg = dict(max_iters=4)
param_scheduler = [dict(type='LinearDecayLR', by_epoch=False,
                        decay_start_fraction=0.5)]
custom_hooks = [
    dict(type='FiniteLossHook'),
    dict(type='ImagePoolHook', pool_size=2, swap_prob=0.5),
    dict(type='RNGStateHook'),
    dict(type='TranslationVisualizationHook', interval=2, num_samples=2),
]
