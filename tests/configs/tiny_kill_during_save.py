# tiny_procedural, SIGKILLed half-way through writing the iter-6 checkpoint.
_base_ = ['tiny_procedural.py']
custom_imports = dict(imports=['mm_cyclegan', 'tests.kill_hooks'],
                      allow_failed_imports=False)
custom_hooks = [
    dict(type='FiniteLossHook'),
    dict(type='ImagePoolHook', pool_size=2, swap_prob=0.5),
    dict(type='RNGStateHook'),
    dict(type='TranslationVisualizationHook', interval=3, num_samples=2),
    dict(type='KillDuringSaveHook', at=6),
]
