# Landscape photo -> anime scenery at 256 px: the paper's CycleGAN
# (ResNet-9 generators, 70x70 PatchGAN, LSGAN, identity 0.5 x 10, image pool
# 50), batch 1 on 1 GPU, 100 + 100 epochs with linear decay.
#
# Data: python tools/download_dataset.py photo2anime --root data
#   [--style hayao|shinkai|paprika] fetches the AnimeGAN training set
#   (non-commercial research only; see data/photo2anime/LICENSE.txt), or
#   any unaligned photos and anime frames:
#   data/photo2anime/trainA/  photos
#   data/photo2anime/trainB/  anime frames
#   data/photo2anime/testA/, testB/  held-out images (optional)
# On a CPU: cyclegan_resnet6-ngf32-lsgan_1xb1-3k_photo2anime-96px.py.
# Resize-then-conv upsampling avoids the checkerboard artefacts that flat
# anime colours make visible.
# Identity weight (model.identity_weight, relative to the cycle weight 10;
# the identity terms weigh 0.5 x 10 = 5 here, as in the paper):
#   1. it keeps colour and content (the reference's cure for inverted or
#      tinted outputs early in training);
#   2. it makes the translation weaker: 0.05 (MMagic 1.2.0's absolute 0.5)
#      or 0 change the inputs more;
#   3. measured trade-off and how to choose: README, "The identity weight";
#      override with --cfg-options model.identity_weight=0.05.
_base_ = [
    '_base_/models/cyclegan_resnet.py',
    '_base_/datasets/unpaired_256.py',
    '_base_/schedules/paper_200e.py',
    '_base_/default_runtime.py',
]

data_root = 'data/photo2anime'
model = dict(generator_a2b=dict(upsample_mode='resize_conv'))
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
# Keep the checkpoint with the lowest mean FID of both directions as
# best_fid_mean_iter_N.pth ('auto' = the metric's first key; without the
# Inception weights it is cycle_l1_mean). Any other key of
# TranslationMetric without a '/' works too (e.g. 'kid_mean').
default_hooks = dict(checkpoint=dict(save_best='auto', rule='less'))
