# Two folders of unaligned images in the CycleGAN layout:
#   <data_root>/trainA, trainB, testA, testB
# Training: resize 286 -> random crop 256 -> random flip, drawn independently
# per domain; batch 1 per process (the paper).
data_root = 'data/horse2zebra'

train_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='UnpairedEpochSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='UnpairedImageDataset',
        data_root=data_root,
        split='train',
        preprocess='resize_and_crop',
        load_size=286,
        crop_size=256,
        flip=True))

# Evaluation on <data_root>/testA and testB, while training (val) and at
# the end (test); recipes set data_root. tools/train.py switches evaluation
# off (one warning) when the test folders are absent.
#
# FID/KID per direction (a2b: fake B vs real testB, b2a: fake A vs real
# testA) with pytorch-fid's Inception weights, a local file looked for at
# $MM_CYCLEGAN_INCEPTION, then <torch hub dir>/checkpoints/
# pt_inception-2015-12-05-6726825d.pth (README, "Evaluation"). Without it:
# one warning, and the metrics that need no network (cycle error, how much
# each generator changes its input, colour statistics gap).
# resize='bilinear' matches pytorch-fid / MMagic TransFID tables;
# resize='clean' is clean-fid's Pillow bicubic resize.
test_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='UnpairedEpochSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='UnpairedImageDataset',
        data_root=data_root,
        split='test',
        # Whole images at 256 x 256 (the classic sets are 256 px already:
        # nothing is resampled); no flips in test mode.
        preprocess='resize_and_crop',
        load_size=256,
        crop_size=256))
test_evaluator = dict(type='TranslationMetric', missing_weights='fallback',
                      resize='bilinear')
test_cfg = dict(type='TestLoop')
val_dataloader = test_dataloader
val_evaluator = test_evaluator
val_cfg = dict(type='ValLoop')
