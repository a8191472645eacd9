# CycleGAN as in the paper on horse2zebra: ResNet-9 generators, 70x70 PatchGAN,
# LSGAN, 256 px crops, batch 1 on 1 GPU, 100 + 100 epochs (linear decay).
# Data: data/horse2zebra/{trainA,trainB,testA,testB}
#   python tools/download_dataset.py horse2zebra
_base_ = [
    '_base_/models/cyclegan_resnet.py',
    '_base_/datasets/unpaired_256.py',
    '_base_/schedules/paper_200e.py',
    '_base_/default_runtime.py',
]

data_root = 'data/horse2zebra'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
# Keep the checkpoint with the lowest mean FID of both directions as
# best_fid_mean_iter_N.pth ('auto' = the metric's first key; without the
# Inception weights it is cycle_l1_mean). Any other key of
# TranslationMetric without a '/' works too (e.g. 'kid_mean').
default_hooks = dict(checkpoint=dict(save_best='auto', rule='less'))
