# The paper's schedule: Adam(2e-4, betas 0.5/0.999) for both optimisers,
# 100 epochs at constant learning rate, then 100 epochs of linear decay to 0,
# counted per iteration (epoch = one pass over the larger domain per GPU).
# The decay is a fraction of the run (the second half), so a shorter or
# longer run (--max-iters / --max-epochs, or train_cfg.max_epochs=50) keeps
# the shape: constant for half the run, then linear to 0 at its end.
# Evaluate every 10k iterations (~7.5 horse2zebra epochs; FID on CPU costs
# ~0.3 s per image).
train_cfg = dict(type='EpochsAsItersTrainLoop', max_epochs=200,
                 val_interval=10000)

optim_wrapper = dict(
    constructor='CycleGANOptimWrapperConstructor',
    generators=dict(
        optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))),
    discriminators=dict(
        optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))))

param_scheduler = [
    # end = the run's length in iterations (set by the runner).
    dict(type='LinearDecayLR', by_epoch=False, decay_start_fraction=0.5),
]
