# tiny_procedural, recording the state training starts from.
_base_ = ['tiny_procedural.py']
custom_imports = dict(imports=['mm_cyclegan', 'tests.probe_hooks'],
                      allow_failed_imports=False)
custom_hooks = [
    dict(type='ImagePoolHook', pool_size=2, swap_prob=0.5),
    dict(type='RNGStateHook'),
    dict(type='StartStateProbeHook'),
]
