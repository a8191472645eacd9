# The built-in demo: landscape photo -> anime scenery on procedural scenes
# rendered in both styles (no download). Training is unpaired (photos and
# anime frames come from disjoint scene seeds); the test split renders the
# same scenes in both styles, so PSNR/SSIM against ground truth can be
# reported next to the identity baseline. A small CycleGAN at 64 px, batch 1,
# sized to train in about 5 minutes on 2 CPU cores (10 at most).
#   make demo   (or: python tools/train.py configs/cyclegan_demo.py)
_base_ = ['_base_/default_runtime.py']

size = 64
model = dict(
    type='CycleGAN',
    generator_a2b=dict(
        type='ResnetGenerator', in_channels=3, out_channels=3,
        base_channels=16, num_blocks=4, norm_cfg=dict(type='IN'),
        upsample_mode='resize_conv'),
    discriminator_b=dict(
        type='PatchDiscriminator', in_channels=3, base_channels=16,
        num_conv=2, norm_cfg=dict(type='IN')),
    gan_loss=dict(type='GANLoss', gan_type='lsgan'),
    cycle_loss_a=dict(type='CycleConsistencyLoss', loss_weight=10.0),
    identity_weight=0.5)

train_dataloader = dict(
    batch_size=1,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='UnpairedEpochSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ProceduralLandscapeDataset', split='train',
                 num_samples=1000, size=size, seed=0))
test_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='UnpairedEpochSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ProceduralLandscapeDataset', split='test',
                 num_samples=64, size=size, seed=0))
test_evaluator = dict(type='PairedTranslationMetric')
test_cfg = dict(type='TestLoop')
val_dataloader = test_dataloader
val_evaluator = test_evaluator
val_cfg = dict(type='ValLoop')

# 2 epochs of 1000 iterations: the first at constant LR, the second decaying
# linearly to zero (the paper's shape, shortened; the decay is the second
# half of any run length, e.g. --max-iters 200).
train_cfg = dict(type='EpochsAsItersTrainLoop', max_epochs=2,
                 val_interval=1000)
optim_wrapper = dict(
    constructor='CycleGANOptimWrapperConstructor',
    generators=dict(
        optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))),
    discriminators=dict(
        optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))))
param_scheduler = [
    dict(type='LinearDecayLR', by_epoch=False, decay_start_fraction=0.5),
]

default_hooks = dict(
    logger=dict(interval=100),
    checkpoint=dict(interval=500, max_keep_ckpts=2))
custom_hooks = [
    dict(type='FiniteLossHook'),
    dict(type='ImagePoolHook', pool_size=50, swap_prob=0.5),
    dict(type='RNGStateHook'),
    dict(type='TranslationVisualizationHook', interval=250, num_samples=4),
    dict(type='TrainingHealthHook', interval=250),
]
