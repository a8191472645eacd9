# Tiny CycleGAN on procedural 32 px landscapes, for tests: seconds per run.
_base_ = ['../../configs/_base_/default_runtime.py']

model = dict(
    type='CycleGAN',
    generator_a2b=dict(type='ResnetGenerator', in_channels=3, out_channels=3,
                       base_channels=4, num_blocks=1,
                       norm_cfg=dict(type='IN')),
    discriminator_b=dict(type='PatchDiscriminator', in_channels=3,
                         base_channels=4, num_conv=2,
                         norm_cfg=dict(type='IN')),
    identity_weight=0.5)

train_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='UnpairedEpochSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ProceduralLandscapeDataset', split='train',
                 num_samples=8, size=32, seed=0))

train_cfg = dict(type='EpochsAsItersTrainLoop', max_iters=6,
                 val_interval=10**9)
optim_wrapper = dict(
    constructor='CycleGANOptimWrapperConstructor',
    generators=dict(
        optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))),
    discriminators=dict(
        optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))))
param_scheduler = [dict(type='LinearDecayLR', by_epoch=False,
                        decay_start_fraction=0.5)]

default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(interval=2, max_keep_ckpts=10))
custom_hooks = [
    dict(type='FiniteLossHook'),
    dict(type='ImagePoolHook', pool_size=2, swap_prob=0.5),
    dict(type='RNGStateHook'),
    dict(type='TranslationVisualizationHook', interval=3, num_samples=2),
]
