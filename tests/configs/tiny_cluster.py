# Tiny float64 CycleGAN for the cluster tests (tests/engine/test_multinode,
# test_slurm, test_rank_failure): 16 px, 5 iterations, checkpoints at 2, 4, 5.
_base_ = ['tiny_procedural.py']
custom_imports = dict(imports=['mm_cyclegan', 'tests.cluster_hooks'],
                      allow_failed_imports=False)
model = dict(type='Float64CycleGAN')
# 6 images: 3 iterations per epoch for 2 ranks x 1 image (and for one
# process x 2 images), so a resume from iteration 2 crosses an epoch.
train_dataloader = dict(dataset=dict(num_samples=6, size=16))
train_cfg = dict(max_iters=5)
param_scheduler = [dict(type='LinearDecayLR', by_epoch=False, begin=2,
                        end=5)]
default_hooks = dict(checkpoint=dict(interval=2))
# The pools never fill (5 fakes per rank, 10 in one process x 2 images), so
# they return the current fakes and one process equals 2 ranks; their
# per-rank contents still go through every checkpoint and resume.
custom_hooks = [
    dict(type='FiniteLossHook'),
    dict(type='ImagePoolHook', pool_size=16, swap_prob=0.5),
    dict(type='RNGStateHook'),
    dict(type='RecordWritesHook'),
    dict(type='DumpRankWeightsHook'),
]
# No TensorBoard backend: its import costs every rank a second.
visualizer = dict(vis_backends=[dict(type='LocalVisBackend')])
