# tiny_cluster.py whose rank 1 SIGKILLs itself after iteration 3 (one past
# the iter-2 checkpoint) in the first torchrun attempt only.
_base_ = ['tiny_cluster.py']
custom_hooks = [
    dict(type='FiniteLossHook'),
    dict(type='ImagePoolHook', pool_size=16, swap_prob=0.5),
    dict(type='RNGStateHook'),
    dict(type='RecordWritesHook'),
    dict(type='DumpRankWeightsHook'),
    dict(type='KillRankOnceHook', at=3, rank=1),
]
