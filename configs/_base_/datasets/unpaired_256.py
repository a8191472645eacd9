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

test_dataloader = None
test_cfg = None
test_evaluator = None
val_dataloader = None
val_cfg = None
val_evaluator = None
