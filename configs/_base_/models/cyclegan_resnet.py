# The paper's CycleGAN: ResNet generators (9 blocks for 256 px), 70x70
# PatchGAN, LSGAN, lambda_cycle = 10, lambda_identity = 0.5 (relative: 5).
model = dict(
    type='CycleGAN',
    generator_a2b=dict(
        type='ResnetGenerator',
        in_channels=3,
        out_channels=3,
        base_channels=64,
        num_blocks=9,
        norm_cfg=dict(type='IN'),
        use_dropout=False,
        padding_mode='reflect',
        init_cfg=dict(type='normal', gain=0.02)),
    discriminator_b=dict(
        type='PatchDiscriminator',
        in_channels=3,
        base_channels=64,
        num_conv=3,
        norm_cfg=dict(type='IN'),
        init_cfg=dict(type='normal', gain=0.02)),
    gan_loss=dict(type='GANLoss', gan_type='lsgan'),
    cycle_loss_a=dict(type='CycleConsistencyLoss', loss_weight=10.0),
    cycle_loss_b=dict(type='CycleConsistencyLoss', loss_weight=10.0),
    identity_weight=0.5,
    update_order='generators_first',
    test_norm_mode='eval',
)
