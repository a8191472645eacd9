# Runtime shared by every recipe: scope, hooks, logging, checkpoints.
default_scope = 'mm_cyclegan'
# tools/train.py and tools/test.py build this runner through the registry.
runner_type = 'CycleGANRunner'

randomness = dict(seed=0, deterministic=False)
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # On a machine without CUDA the tools switch this to gloo.
    dist_cfg=dict(backend='nccl'),
)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    # MMEngine's LoggerHook that also logs the first iteration (speed, ETA).
    logger=dict(type='EarlyLoggerHook', interval=100,
                log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # Atomic, plain (weights_only) and finite checkpoints (CycleGANRunner);
    # keep the last three; old ones are deleted only after a good save.
    checkpoint=dict(type='SafeCheckpointHook', by_epoch=False, interval=5000,
                    max_keep_ckpts=3, save_last=True),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
custom_hooks = [
    # Stops at the first NaN/inf loss, naming it and the iteration.
    dict(type='FiniteLossHook'),
    dict(type='ImagePoolHook', pool_size=50, swap_prob=0.5),
    dict(type='RNGStateHook'),
    dict(type='TranslationVisualizationHook', interval=1000, num_samples=4),
    # Warns (log + TensorBoard health/* scalars) when a discriminator wins
    # outright, a generator collapses or inverts colours; stop_on=[...]
    # stops training on chosen symptoms.
    dict(type='TrainingHealthHook', interval=500),
]

# Each network gets its own DDP wrapper and is called through it.
model_wrapper_cfg = dict(
    type='MMSeparateDistributedDataParallel',
    broadcast_buffers=False,
    find_unused_parameters=False)

visualizer = dict(
    type='Visualizer',
    vis_backends=[dict(type='LocalVisBackend'),
                  dict(type='TensorboardVisBackend')])
log_processor = dict(type='LogProcessor', by_epoch=False, window_size=100)
log_level = 'INFO'
load_from = None
resume = False
# Loading weights (load_from, tools/test.py) is strict: every key and shape
# of the four networks must match. True loads what fits (e.g. a new
# discriminator for fine-tuning) and lists the rest (--partial).
load_partial = False
