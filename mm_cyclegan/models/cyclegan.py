"""CycleGAN (Zhu et al., 2017): the model and its training step."""
from __future__ import annotations

import contextlib
from typing import Any, Iterator, Optional

import torch
from mmengine.logging import print_log
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapperDict
from torch import Tensor, nn

from mm_cyclegan.engine.image_pool import ImagePool, ImagePools
from mm_cyclegan.models.identity_anneal import IdentityAnneal
from mm_cyclegan.models.network_cfgs import (
    channels_of,
    complete_network_cfgs,
    identity_loss_possible,
)
from mm_cyclegan.models.step_helpers import (
    as_fp32,
    frozen,
    strip_wrapper_keys,
)
from mm_cyclegan.registry import MODELS
from mm_cyclegan.utils import loss_names as names
from mm_cyclegan.utils.validation import check_choice, check_number

__all__ = ['CycleGAN']

# Sample fields passed through from the data to val/test outputs.
_META_KEYS = ('path_a', 'path_b', 'index_a', 'index_b', 'valid_a', 'valid_b',
              'paired')
_UPDATE_ORDERS = ('generators_first', 'discriminators_first')
_TEST_NORM_MODES = ('eval', 'train')


@MODELS.register_module()
class CycleGAN(BaseModel):
    """Unpaired translation between domains ``a`` and ``b``.

    Args:
        generator_a2b: Config of the a -> b generator.
        discriminator_b: Config of the discriminator of domain b.
        generator_b2a: Config of the b -> a generator. Default: a copy of
            ``generator_a2b`` with ``in_channels``/``out_channels`` swapped.
        discriminator_a: Config of the discriminator of domain a. Default: a
            copy of ``discriminator_b`` with ``in_channels`` of domain a.
        gan_loss: GAN loss config (``GANLoss``; lsgan in the paper).
        cycle_loss_a: Loss on ``rec_a`` vs ``real_a``; its ``loss_weight`` is
            the paper's ``lambda_A`` (10).
        cycle_loss_b: Same for domain b (``lambda_B``). Default: like a.
        identity_weight: The paper's ``lambda_identity``, *relative* to the
            cycle weights: the identity terms weigh
            ``identity_weight * lambda_B`` (``|G_a2b(b) - b|``) and
            ``identity_weight * lambda_A``. ``0`` skips the identity passes.
        identity_anneal: ``None`` (constant, as in the paper) or
            ``dict(end_weight=..., begin=0.0, end=1.0)``: see
            :class:`~mm_cyclegan.models.identity_anneal.IdentityAnneal`
            (the current weight is logged as ``identity_weight``).
        identity_loss: Identity loss config without ``loss_weight`` (the
            effective weights above are filled in).
        gradient_penalty: Optional gradient penalty config (for example
            ``dict(type='GradientPenalty', loss_weight=10)`` with
            ``gan_type='wgan'``), added to each discriminator's loss.
        update_order: ``'generators_first'`` (the reference) or
            ``'discriminators_first'`` (MMagic's order).
        test_norm_mode: ``'eval'`` (default) runs val/test with the networks
            in eval mode; ``'train'`` uses train-mode normalisation and
            dropout, like the reference's ``test.py`` without ``--eval``.
            Either way the previous mode is restored afterwards.
        data_preprocessor: Moves the batch to the device.
        init_cfg: Passed to :class:`~mmengine.model.BaseModel`.

    The four networks are direct submodules, so under DDP (MMEngine's
    ``MMSeparateDistributedDataParallel``) each gets its own wrapper and is
    always called through it: gradients are averaged across ranks (MMagic
    1.2.0 calls its networks through ``.module`` and never synchronises).
    Image pools are given with :meth:`set_image_pools` (by
    :class:`~mm_cyclegan.engine.ImagePoolHook` in a training run); without
    them fakes go to the discriminators unpooled (logged once). The four
    constant loss weights (:attr:`loss_weights`) are logged once, at the
    first training step, not in every log line.
    """

    def __init__(self,
                 generator_a2b: dict,
                 discriminator_b: dict,
                 generator_b2a: Optional[dict] = None,
                 discriminator_a: Optional[dict] = None,
                 gan_loss: Optional[dict] = None,
                 cycle_loss_a: Optional[dict] = None,
                 cycle_loss_b: Optional[dict] = None,
                 identity_weight: float = 0.5,
                 identity_anneal: Optional[dict] = None,
                 identity_loss: Optional[dict] = None,
                 gradient_penalty: Optional[dict] = None,
                 update_order: str = 'generators_first',
                 test_norm_mode: str = 'eval',
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='BaseDataPreprocessor')
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        check_choice('update_order', update_order, _UPDATE_ORDERS)
        check_choice('test_norm_mode', test_norm_mode, _TEST_NORM_MODES)
        self.update_order = update_order
        self.test_norm_mode = test_norm_mode
        self.identity_weight = check_number('identity_weight',
                                            identity_weight, minimum=0)
        self.identity_anneal = (IdentityAnneal(self.identity_weight,
                                               identity_anneal)
                                if identity_anneal is not None else None)

        networks = complete_network_cfgs(generator_a2b, discriminator_b,
                                         generator_b2a, discriminator_a)
        self.channels_a = channels_of(generator_a2b, 'in_channels',
                                    'generator_a2b')
        self.channels_b = channels_of(generator_a2b, 'out_channels',
                                    'generator_a2b')
        if self.identity_weight > 0 and \
                not identity_loss_possible(generator_a2b):
            raise ValueError(
                f'identity_weight={identity_weight} needs equal channel '
                f'counts, but domain a has {self.channels_a} and domain b '
                f'has {self.channels_b}; set identity_weight=0')
        self.generator_a2b = MODELS.build(networks['generator_a2b'])
        self.generator_b2a = MODELS.build(networks['generator_b2a'])
        self.discriminator_a = MODELS.build(networks['discriminator_a'])
        self.discriminator_b = MODELS.build(networks['discriminator_b'])
        self._build_losses(gan_loss, cycle_loss_a, cycle_loss_b,
                           identity_loss, gradient_penalty)

        self._image_pools: Optional[ImagePools] = None
        self._warned_no_pool = False
        self._logged_weights = False
        # Checkpoint keys must not depend on DDP wrapping (each network gets
        # its own wrapper, which adds '.module.' to its keys). Loading needs
        # no counterpart: MMEngine's loader unwraps wrappers as it recurses.
        self._register_state_dict_hook(strip_wrapper_keys)

    def _build_losses(self, gan_loss: Optional[dict],
                      cycle_loss_a: Optional[dict],
                      cycle_loss_b: Optional[dict],
                      identity_loss: Optional[dict],
                      gradient_penalty: Optional[dict]) -> None:
        """Build the loss modules; identity weights follow the cycle ones."""
        self.gan_loss = MODELS.build(
            gan_loss or dict(type='GANLoss', gan_type='lsgan'))
        cycle_loss_a = cycle_loss_a or dict(
            type='CycleConsistencyLoss', loss_weight=10.0)
        self.cycle_loss_a = MODELS.build(cycle_loss_a)
        self.cycle_loss_b = MODELS.build(cycle_loss_b or cycle_loss_a)
        # Paper/reference: the identity weight is relative to the cycle
        # weight of the domain whose image is reproduced.
        self.weight_identity_a = (self.identity_weight *
                                  float(self.cycle_loss_a.loss_weight))
        self.weight_identity_b = (self.identity_weight *
                                  float(self.cycle_loss_b.loss_weight))
        identity_loss = dict(identity_loss or dict(type='IdentityLoss'))
        if 'loss_weight' in identity_loss:
            raise ValueError(
                'identity_loss.loss_weight is derived, not set: it is '
                'identity_weight x the cycle weight of the domain (here '
                f'{self.weight_identity_a:g} for a, '
                f'{self.weight_identity_b:g} for b); remove loss_weight='
                f'{identity_loss["loss_weight"]!r} and set identity_weight '
                'instead')
        self.identity_loss_a = MODELS.build(
            dict(identity_loss, loss_weight=self.weight_identity_a))
        self.identity_loss_b = MODELS.build(
            dict(identity_loss, loss_weight=self.weight_identity_b))
        self.gradient_penalty = (MODELS.build(gradient_penalty)
                                 if gradient_penalty else None)

    @property
    def loss_weights(self) -> dict[str, float]:
        """The four constant weights of the cycle and identity terms."""
        return dict(cycle_a=float(self.cycle_loss_a.loss_weight),
                    cycle_b=float(self.cycle_loss_b.loss_weight),
                    identity_a=self.weight_identity_a,
                    identity_b=self.weight_identity_b)

    # --------------------------------------------------------- image pools
    def set_image_pools(self, pools: Optional[ImagePools]) -> None:
        """Use ``pools`` (from :func:`~mm_cyclegan.engine.make_image_pools`)
        for the fakes shown to the discriminators; ``None`` detaches them."""
        if pools is not None and not isinstance(pools, ImagePools):
            raise TypeError('set_image_pools expects an ImagePools (see '
                            f'make_image_pools) or None, got {pools!r}')
        self._image_pools = pools

    @property
    def image_pools(self) -> Optional[ImagePools]:
        """The attached pools (``.a``, ``.b``), or ``None``."""
        return self._image_pools

    # ----------------------------------------------------------- inference
    def translate(self, images: Tensor, direction: str = 'a2b') -> Tensor:
        """Translate a batch ``(N,C,H,W)`` in [-1, 1]; ``'a2b'``/``'b2a'``."""
        check_choice('direction', direction, ('a2b', 'b2a'))
        if direction == 'a2b':
            return self.generator_a2b(images)
        return self.generator_b2a(images)

    def forward(self, inputs: Tensor, data_samples: Any = None,
                mode: str = 'tensor') -> Tensor:
        """``mode='tensor'``: translate ``inputs`` from a to b."""
        if mode != 'tensor':
            raise ValueError(
                f"CycleGAN.forward supports mode='tensor' only, got {mode!r};"
                ' use train_step / val_step / test_step')
        return self.generator_a2b(inputs)

    @contextlib.contextmanager
    def _test_mode(self) -> Iterator[None]:
        previous = self.training
        self.train(self.test_norm_mode == 'train')
        try:
            yield
        finally:
            self.train(previous)

    def _predict(self, data: dict) -> list[dict]:
        data = self.data_preprocessor(data, False)
        real_a, real_b = data['img_a'], data['img_b']
        with self._test_mode(), torch.no_grad():
            fake_b = self.generator_a2b(real_a)
            fake_a = self.generator_b2a(real_b)
            # Reconstructions, for the cycle error of TranslationMetric.
            rec_a = self.generator_b2a(fake_b)
            rec_b = self.generator_a2b(fake_a)
        outputs = []
        for i in range(real_a.shape[0]):
            sample: dict[str, Any] = dict(
                real_a=self._crop(real_a[i], data, 'pad_a', i),
                real_b=self._crop(real_b[i], data, 'pad_b', i),
                fake_b=self._crop(fake_b[i], data, 'pad_a', i),
                fake_a=self._crop(fake_a[i], data, 'pad_b', i),
                rec_a=self._crop(rec_a[i], data, 'pad_a', i),
                rec_b=self._crop(rec_b[i], data, 'pad_b', i))
            sample = {k: v.cpu() for k, v in sample.items()}
            for key in _META_KEYS:
                if key in data:
                    value = data[key][i]
                    sample[key] = value.item() if isinstance(
                        value, Tensor) else value
            outputs.append(sample)
        return outputs

    @staticmethod
    def _crop(image: Tensor, data: dict, key: str, i: int) -> Tensor:
        """Undo the padding the dataset added (preprocess ``'none'``)."""
        if key not in data:
            return image
        top, bottom, left, right = (int(v) for v in data[key][i])
        height, width = image.shape[-2:]
        return image[..., top:height - bottom, left:width - right]

    def val_step(self, data: dict) -> list[dict]:
        """Translate both ways; one dict per sample (see ``test_step``)."""
        return self._predict(data)

    def test_step(self, data: dict) -> list[dict]:
        """Translate both ways.

        Returns one dict per sample with ``real_a``, ``real_b``, ``fake_a``,
        ``fake_b``, the reconstructions ``rec_a = G_b2a(fake_b)`` and
        ``rec_b = G_a2b(fake_a)`` (CPU tensors, padding removed) and the
        sample's metadata
        (``path_*``, ``valid_*``, ``paired``).
        """
        return self._predict(data)

    # ------------------------------------------------------------ training
    def _pool(self, pool: Optional[ImagePool], images: Tensor) -> Tensor:
        if pool is None:
            if not self._warned_no_pool:
                print_log('CycleGAN: no image pool attached (add '
                          'ImagePoolHook to custom_hooks); discriminators '
                          'see only the newest fakes.', logger='current',
                          level=30)
                self._warned_no_pool = True
            return images.detach()
        return pool.query(images.detach())

    def _translate(self, real_a: Tensor, real_b: Tensor) -> dict:
        """Phase 1: every generator pass of the iteration."""
        out = dict(real_a=real_a, real_b=real_b)
        out['fake_b'] = self.generator_a2b(real_a)
        out['rec_a'] = self.generator_b2a(out['fake_b'])
        out['fake_a'] = self.generator_b2a(real_b)
        out['rec_b'] = self.generator_a2b(out['fake_a'])
        if self.identity_weight > 0:
            out['idt_b'] = self.generator_a2b(real_b)
            out['idt_a'] = self.generator_b2a(real_a)
        return {k: as_fp32(v) for k, v in out.items()}

    def _generator_losses(self, out: dict) -> dict:
        """Phase 2 losses: fool the (frozen) discriminators, close cycles."""
        with frozen(self.discriminator_a), frozen(self.discriminator_b):
            losses = {
                names.adversarial_loss('a2b'): self.gan_loss(
                    as_fp32(self.discriminator_b(out['fake_b'])), True,
                    is_disc=False),
                names.adversarial_loss('b2a'): self.gan_loss(
                    as_fp32(self.discriminator_a(out['fake_a'])), True,
                    is_disc=False)}
        losses[names.cycle_loss('a')] = self.cycle_loss_a(out['rec_a'],
                                                          out['real_a'])
        losses[names.cycle_loss('b')] = self.cycle_loss_b(out['rec_b'],
                                                          out['real_b'])
        if self.identity_weight > 0:
            # The loss modules carry the starting weight; an anneal scales
            # both terms by the current weight's share of it.
            scale = (self.identity_anneal.scale()
                     if self.identity_anneal else 1.0)
            losses[names.identity_loss('b')] = scale * self.identity_loss_b(
                out['idt_b'], out['real_b'])
            losses[names.identity_loss('a')] = scale * self.identity_loss_a(
                out['idt_a'], out['real_a'])
        return losses

    def _discriminator_loss(self, domain: str, network: nn.Module,
                            pool: Optional[ImagePool], real: Tensor,
                            fake: Tensor) -> dict:
        fake = self._pool(pool, fake)
        loss_real = self.gan_loss(as_fp32(network(real)), True, is_disc=True)
        loss_fake = self.gan_loss(as_fp32(network(fake)), False, is_disc=True)
        losses = {names.discriminator_loss(domain):
                  0.5 * (loss_real + loss_fake)}
        if self.gradient_penalty is not None:
            losses[names.gradient_penalty_loss(domain)] = \
                self.gradient_penalty(network, real, fake)
        return losses

    def _discriminator_losses(self, out: dict) -> dict:
        """Phase 3 losses: real vs pooled, detached fakes per domain."""
        pools = self._image_pools
        losses = self._discriminator_loss(
            'b', self.discriminator_b, pools.b if pools else None,
            out['real_b'], out['fake_b'].detach())
        losses.update(self._discriminator_loss(
            'a', self.discriminator_a, pools.a if pools else None,
            out['real_a'], out['fake_a'].detach()))
        return losses

    def _update(self, optim_wrapper, losses: dict, prefix: str) -> dict:
        total, log_vars = self.parse_losses(losses)
        optim_wrapper.update_params(total)
        named: dict[str, Tensor] = dict(log_vars)
        named[f'loss_{prefix}'] = named.pop('loss')
        # Detached, so the logged values do not keep the graph alive.
        return {k: v.detach() for k, v in named.items()}

    def train_step(self, data: dict,
                   optim_wrapper: OptimWrapperDict) -> dict:
        """One CycleGAN iteration; returns every loss term.

        ``optim_wrapper`` holds ``generators`` and ``discriminators``
        (see :class:`~mm_cyclegan.engine.CycleGANOptimWrapperConstructor`).
        """
        g_optim = optim_wrapper['generators']
        d_optim = optim_wrapper['discriminators']
        data = self.data_preprocessor(data, True)
        if not self._logged_weights:
            # Constant for the whole run: logged once, not per log line.
            anneal = self.identity_anneal
            print_log('CycleGAN loss weights: ' + ', '.join(
                f'{k}={v:g}' for k, v in self.loss_weights.items()) +
                (f' ({anneal})' if anneal else ''), logger='current')
            self._logged_weights = True
        log_vars: dict[str, Tensor] = {}

        # Phase 1: translate.
        with g_optim.optim_context(self):
            out = self._translate(data['img_a'], data['img_b'])

        if self.update_order == 'discriminators_first':
            with d_optim.optim_context(self):
                d_losses = self._discriminator_losses(out)
            log_vars.update(self._update(d_optim, d_losses,
                                         'discriminators'))
        # Phase 2: update the generators, discriminators frozen.
        with g_optim.optim_context(self):
            g_losses = self._generator_losses(out)
        log_vars.update(self._update(g_optim, g_losses, 'generators'))
        if self.identity_anneal is not None:
            log_vars['identity_weight'] = torch.tensor(
                self.identity_anneal.current())
        if self.update_order == 'generators_first':
            # Phase 3: update the discriminators on pooled fakes.
            with d_optim.optim_context(self):
                d_losses = self._discriminator_losses(out)
            log_vars.update(self._update(d_optim, d_losses,
                                         'discriminators'))
        return log_vars
