"""test_step returns the reconstructions the cycle error needs."""
import torch

from mm_cyclegan.registry import MODELS


def test_test_step_returns_cropped_reconstructions():
    model = MODELS.build(dict(
        type='mm_cyclegan.CycleGAN',
        generator_a2b=dict(type='ResnetGenerator', in_channels=3,
                           out_channels=3, base_channels=4, num_blocks=1),
        discriminator_b=dict(type='PatchDiscriminator', in_channels=3,
                             base_channels=4, num_conv=2)))
    g = torch.Generator().manual_seed(0)
    data = dict(img_a=torch.rand(2, 3, 16, 16, generator=g) * 2 - 1,
                img_b=torch.rand(2, 3, 16, 16, generator=g) * 2 - 1,
                pad_a=torch.tensor([[0, 0, 0, 0], [2, 2, 0, 4]]),
                pad_b=torch.zeros(2, 4, dtype=torch.int64))
    outputs = model.test_step(data)
    model.eval()
    with torch.no_grad():
        rec_a = model.generator_b2a(model.generator_a2b(data['img_a']))
        rec_b = model.generator_a2b(model.generator_b2a(data['img_b']))
    assert torch.allclose(outputs[0]['rec_a'], rec_a[0])
    assert torch.allclose(outputs[1]['rec_a'], rec_a[1][:, 2:14, 0:12])
    assert torch.allclose(outputs[1]['rec_b'], rec_b[1])
