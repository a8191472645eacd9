# tiny_procedural with a paired test set and the paired metrics.
_base_ = ['tiny_procedural.py']

test_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='UnpairedEpochSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ProceduralLandscapeDataset', split='test',
                 num_samples=8, size=32, seed=0))
test_evaluator = dict(type='PairedTranslationMetric')
test_cfg = dict(type='TestLoop')
