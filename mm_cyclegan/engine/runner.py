"""MMEngine's Runner with safe checkpoints: atomic, plain, finite, strict."""
from __future__ import annotations

import difflib
import inspect
import os
import os.path as osp
from typing import Optional

import mmengine.runner.checkpoint as mmengine_checkpoint
import torch
from mmengine.dist import all_reduce, is_distributed, master_only
from mmengine.hooks import CheckpointHook
from mmengine.logging import MMLogger
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from mm_cyclegan.compat import (
    cpu_ddp_wrapper_cfg,
    ddp_buffer_sync_cfg,
    without_unused_file_client,
)
from mm_cyclegan.datasets.padding import padded_size
from mm_cyclegan.datasets.transforms import PAD_MULTIPLE
from mm_cyclegan.datasets.unpaired_dataset import UnpairedImageDataset
from mm_cyclegan.registry import RUNNERS
from mm_cyclegan.utils.validation import check_int, check_number

from .checkpoint import (
    CHECKPOINT_FORMAT,
    encode_state,
    find_resumable_checkpoint,  # noqa: F401  (old imports from here)
    load_model_weights,
    non_finite_tensors,
    read_checkpoint,
)
from .console import quiet_console


class StartupCheckError(ValueError):
    """The config cannot work; found before the first iteration."""


class NonFiniteCheckpointError(RuntimeError):
    """The weights to be saved hold NaN or inf; nothing was written."""


def _forward_problem(model, domain: str, size: tuple[int, int]
                     ) -> Optional[str]:
    """Why the generator and discriminators fail on an image of ``size``
    in ``domain`` (a zero tensor through the real networks), or None."""
    import torch
    channels = getattr(model, f'channels_{domain}', 3)
    direction = 'a2b' if domain == 'a' else 'b2a'
    other = 'b' if domain == 'a' else 'a'
    generator = getattr(model, f'generator_{direction}', None)
    critic_in = getattr(model, f'discriminator_{domain}', None)
    critic_out = getattr(model, f'discriminator_{other}', None)
    if generator is None:
        return None
    device = next(model.parameters()).device
    image = torch.zeros(1, channels, *size, device=device)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            fake = generator(image)
            if critic_in is not None:
                critic_in(image)
            if critic_out is not None:
                critic_out(fake)
    except (RuntimeError, ValueError) as err:  # conv/pad/norm size errors
        return str(err).splitlines()[0][:200]
    finally:
        model.train(was_training)
    return None


@RUNNERS.register_module()
class CycleGANRunner(Runner):
    """:class:`mmengine.runner.Runner` with safe checkpoints.

    * **Atomic**: each checkpoint is written to ``<name>.tmp`` and renamed
      into place, so a kill while saving never leaves a truncated file where
      the last good checkpoint is looked for.
    * **Plain and finite**: a checkpoint is converted to tensors and plain
      containers (:func:`~.checkpoint.encode_state`) after every hook added
      its state, so it loads with ``weights_only=True``; one whose weights
      hold NaN/inf is refused (:class:`NonFiniteCheckpointError`).
    * **Loading policy** (:mod:`mm_cyclegan.engine.checkpoint`): resume reads
      only plain files; ``load_from`` and ``test`` read weights
      tensors-only. Weights load strictly (missing/unexpected/mismatched
      keys are an error) unless the config sets ``load_partial=True``
      (``--partial``); resume is always strict.
    * **Auto-resume** skips only provably damaged checkpoints (kept as
      ``*.damaged``), stops at one it refuses (legacy format, unsafe
      content) and never follows a ``last_checkpoint`` out of its work dir
      (:func:`~.checkpoint.find_resumable_checkpoint`).
    * **Start-up checks**: iterations, batch sizes and learning rates of
      the wrong type or range, unknown checkpoint-hook arguments and
      dataset channels that do not fit the model fail before the first
      iteration, naming the key and value.
    * **CPU distributed**: the DDP wrappers get ``device_ids=None``
      (:func:`mm_cyclegan.compat.cpu_ddp_wrapper_cfg`).
    """

    _load_from: Optional[str]  # set by MMEngine's Runner

    def __init__(self, *args, **kwargs) -> None:
        self._resuming = False
        # The file being saved, for the seal's error message (MMEngine's
        # save_checkpoint calls the hook without the file name).
        self._saving: Optional[str] = None
        #: The checkpoint this run resumed from (None for a new run).
        self.resumed_from: Optional[str] = None
        self._startup_checked = False
        super().__init__(*args, **kwargs)
        self._check_config_values()
        self._check_checkpoint_hook_args()
        self._check_channels()

    def setup_env(self, env_cfg: dict) -> None:
        """MMEngine's set-up, then a timestamp no earlier run shares.

        MMEngine names the log dir and the experiment (its logger, message
        hub and visualizer instances) after a timestamp in whole seconds. A
        second runner built within the same second, in the same process or
        work dir, would reuse the first one's logger (and log file) and log
        dir; a suffix (``_1``, ``_2``, ...) keeps them apart. Every rank takes
        the largest suffix any rank needs, so names agree across DDP ranks.
        """
        super().setup_env(env_cfg)
        taken = set(MMLogger._instance_dict)
        base, suffix = str(self.timestamp), 0

        def in_use(stamp: str) -> bool:
            return (osp.exists(osp.join(self._work_dir, stamp)) or
                    any(name == stamp or name.endswith('_' + stamp)
                        for name in taken))

        while in_use(base if not suffix else f'{base}_{suffix}'):
            suffix += 1
        if is_distributed():
            agreed = torch.tensor(suffix, dtype=torch.int64)
            all_reduce(agreed, op='max')
            suffix = int(agreed.item())
        if suffix:
            self._timestamp = f'{base}_{suffix}'

    # ------------------------------------------------------------ start-up
    def _check_config_values(self) -> None:
        """Iterations, batch sizes and learning rates: named errors now,
        not a traceback from deep inside a loop, loader or optimiser."""
        cfg = self.cfg or {}
        train_cfg = cfg.get('train_cfg') or {}
        for key in ('max_iters', 'max_epochs', 'val_interval'):
            if train_cfg.get(key) is not None:
                check_int(f'train_cfg.{key}', train_cfg[key], 1,
                          StartupCheckError)
        for loader in ('train_dataloader', 'val_dataloader',
                       'test_dataloader'):
            section = cfg.get(loader)
            if isinstance(section, dict) and \
                    section.get('batch_size') is not None:
                check_int(f'{loader}.batch_size', section['batch_size'], 1,
                          StartupCheckError)
        optim = cfg.get('optim_wrapper') or {}
        groups = [(f'optim_wrapper.{name}', group)
                  for name, group in optim.items()
                  if isinstance(group, dict) and 'optimizer' in group]
        if 'optimizer' in optim:
            groups.append(('optim_wrapper', optim))
        for where, group in groups:
            optimizer = group.get('optimizer')
            if isinstance(optimizer, dict) and 'lr' in optimizer:
                lr = check_number(f'{where}.optimizer.lr', optimizer['lr'])
                if not lr >= 0 or lr == float('inf'):
                    raise StartupCheckError(
                        f'{where}.optimizer.lr must be a finite number >= '
                        f'0, got {optimizer["lr"]!r}')

    def _check_checkpoint_hook_args(self) -> None:
        """Extra ``CheckpointHook`` arguments go to ``save_checkpoint``:
        check them now, not at the first save."""
        # What the hook passes itself; an extra key repeating one of these
        # fails as well ("got multiple values").
        passed = {'self', 'out_dir', 'filename', 'file_client_args',
                  'save_optimizer', 'save_param_scheduler', 'meta',
                  'by_epoch', 'backend_args'}
        accepted = set(inspect.signature(
            Runner.save_checkpoint).parameters) - passed
        known = set(inspect.signature(CheckpointHook.__init__).parameters
                    ) - {'self', 'kwargs'}
        for hook in self.hooks:
            if not isinstance(hook, CheckpointHook):
                continue
            unknown = sorted(set(getattr(hook, 'args', {})) - accepted)
            if unknown:
                hints = []
                for name in unknown:
                    close = difflib.get_close_matches(name, known, n=1)
                    hints.append(f'{name!r}' + (f' (did you mean '
                                                f'{close[0]!r}?)'
                                                if close else ''))
                raise StartupCheckError(
                    f'{type(hook).__name__} got unknown argument(s) '
                    f'{", ".join(hints)} (default_hooks.checkpoint); it '
                    f'accepts {", ".join(sorted(known | accepted))}')

    def _check_channels(self) -> None:
        """Dataset channels must equal the generators' (named both)."""
        model = self.model.module if is_model_wrapper(self.model) \
            else self.model
        loader = self.cfg.get('train_dataloader') if self.cfg else None
        dataset = loader.get('dataset') if isinstance(loader, dict) else None
        if not isinstance(dataset, dict):
            return
        for domain in ('a', 'b'):
            want = getattr(model, f'channels_{domain}', None)
            got = dataset.get(f'channels_{domain}')
            if want is not None and got is not None and int(got) != int(
                    want):
                raise StartupCheckError(
                    f'train_dataloader.dataset.channels_{domain}={got} but '
                    f'the generators take {want}-channel images in domain '
                    f'{domain} (model.generator_a2b '
                    f'{"in" if domain == "a" else "out"}_channels={want}); '
                    'make them equal')

    def check_startup(self) -> None:
        """The start-up checks that need the built dataset and model (run
        by :meth:`train`; tools call it earlier, e.g. before
        ``--overwrite`` moves an earlier run aside)."""
        if not self._startup_checked:
            self._check_unprocessed_sizes()
            self._startup_checked = True

    def train(self):
        """Check that unprocessed images fit the model, then train."""
        self.check_startup()
        return super().train()

    def _check_unprocessed_sizes(self) -> None:
        """With ``preprocess='none'`` images keep their size: explain at
        start-up when they are too small for the networks, or of mixed
        sizes in batches of more than one (naming the files)."""
        loader = self.train_dataloader
        dataset = getattr(loader, 'dataset', None)
        mode = getattr(getattr(dataset, 'preprocess', None), 'mode', None)
        if mode != 'none' or not isinstance(dataset, UnpairedImageDataset):
            return
        scans = [dataset.scan_result(d) for d in ('a', 'b')]
        model = self.model.module if is_model_wrapper(self.model) \
            else self.model
        for domain, scan in zip(('a', 'b'), scans):
            if not scan.files:
                continue
            padded = [(padded_size(h, PAD_MULTIPLE),
                       padded_size(w, PAD_MULTIPLE)) for h, w in scan.sizes]
            smallest = min(range(len(padded)), key=lambda i: padded[i])
            problem = _forward_problem(model, domain, padded[smallest])
            if problem:
                height, width = scan.sizes[smallest]
                raise StartupCheckError(
                    f'preprocess="none": {scan.files[smallest]} is '
                    f'{width}x{height} (width x height), too small for the '
                    f'networks ({problem}); use larger images or a crop '
                    'mode')
            if getattr(loader, 'batch_size', 1) > 1 and len(set(padded)) > 1:
                other = next(i for i, size in enumerate(padded)
                             if size != padded[0])
                raise StartupCheckError(
                    'preprocess="none" keeps each image\'s size, so a batch '
                    f'of {loader.batch_size} needs images of one size, but '
                    f'{scan.files[0]} is {scan.sizes[0][1]}x'
                    f'{scan.sizes[0][0]} and {scan.files[other]} is '
                    f'{scan.sizes[other][1]}x{scan.sizes[other][0]}; use '
                    'batch_size=1 or a crop mode')

    # --------------------------------------------------------------- saving
    @master_only
    def save_checkpoint(self, out_dir: str, filename: str, *args,
                        **kwargs) -> None:
        """Save like MMEngine, but through a temporary file and a rename."""
        final = osp.join(out_dir, filename)
        self._saving = final
        # file_client_args: third positional (CheckpointHook) or keyword.
        client_args = args[0] if args else kwargs.get('file_client_args')
        try:
            if client_args is None:
                # MMEngine builds a FileClient it does not use here (see
                # mm_cyclegan.compat.without_unused_file_client).
                with without_unused_file_client(mmengine_checkpoint):
                    super().save_checkpoint(out_dir, filename + '.tmp',
                                            *args, **kwargs)
            else:
                super().save_checkpoint(out_dir, filename + '.tmp', *args,
                                        **kwargs)
        finally:
            self._saving = None
        os.replace(final + '.tmp', final)

    def call_hook(self, fn_name: str, **kwargs) -> None:
        """Call hooks; after ``before_save_checkpoint`` (every hook has
        added its state) make the checkpoint plain, or refuse it."""
        super().call_hook(fn_name, **kwargs)
        if fn_name == 'before_save_checkpoint':
            self._seal_checkpoint(kwargs['checkpoint'])

    def _seal_checkpoint(self, checkpoint: dict) -> None:
        name = self._saving or 'checkpoint'
        bad = non_finite_tensors(checkpoint.get('state_dict', {}))
        if bad:
            raise NonFiniteCheckpointError(
                f'Not writing {name}: {len(bad)} weight tensor(s) hold NaN '
                f'or inf (e.g. {", ".join(bad[:3])}). Training diverged; '
                'the earlier checkpoints are kept. Lower the learning rate '
                'or resume from an earlier checkpoint.')
        plain = encode_state(checkpoint)
        checkpoint.clear()
        checkpoint.update(plain)
        checkpoint['mm_cyclegan_format'] = CHECKPOINT_FORMAT

    # -------------------------------------------------------------- loading
    def resume(self, filename: str, *args, **kwargs) -> None:
        """Resume from a plain checkpoint (see :mod:`.checkpoint`)."""
        self._resuming = True
        self.resumed_from = filename  # named if the run turns out finished
        try:
            super().resume(filename, *args, **kwargs)
        finally:
            self._resuming = False

    def load_checkpoint(self, filename: str, map_location='cpu',
                        strict: bool = True,
                        revise_keys: Optional[list] = None) -> dict:
        """Read ``filename`` safely and load its weights strictly.

        Within :meth:`resume` the file must be plain and the load is strict
        whatever ``strict`` says; otherwise the weights are read
        tensors-only. ``revise_keys`` is accepted for MMEngine
        compatibility; a leading ``module.`` is always stripped.
        """
        purpose = 'resume' if self._resuming else 'weights'
        checkpoint = read_checkpoint(filename, map_location, purpose)
        ignored = checkpoint.ignored_types
        if ignored:
            self.logger.warning(
                f'{filename} is not a plain checkpoint; read tensors-only. '
                f'Ignored object types: {", ".join(ignored[:8])}.')
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = self.model.module if is_model_wrapper(self.model) \
            else self.model
        report = load_model_weights(
            model, checkpoint, strict=strict or self._resuming,
            config=self.cfg.filename if self.cfg else None, source=filename)
        if not report.complete:
            self.logger.warning(
                f'Partial load from {filename} ({len(report.loaded)} tensors '
                f'loaded):\n{report.describe()}')
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

    def load_or_resume(self) -> None:
        """Resume (explicit file, or the newest intact one in the work dir)
        or load weights; auto-resume with nothing to resume starts fresh."""
        if self._has_loaded:
            return None
        if self._resume:
            target = self._load_from
            if target is None:
                target = find_resumable_checkpoint(
                    self.work_dir, logger=self.logger.warning)
                if target is None:
                    self.logger.info(
                        f'No intact checkpoint in {self.work_dir} to resume '
                        'from; starting from scratch.')
                    return None
                self.logger.info(f'Auto-resuming from {target}')
            self.resume(target)
        elif self._load_from is not None:
            partial = bool(self.cfg.get('load_partial', False))
            self.load_checkpoint(self._load_from, strict=not partial)
        self._has_loaded = True
        return None

    def build_logger(self, *args, **kwargs) -> MMLogger:
        """MMEngine's logger whose console leaves out the environment,
        config and hook table (they stay in the log file; see
        :mod:`mm_cyclegan.engine.console`)."""
        logger = super().build_logger(*args, **kwargs)
        quiet_console(logger)
        return logger

    def wrap_model(self, model_wrapper_cfg: Optional[dict], model):
        """Wrap for DDP; on CPU the wrappers get ``device_ids=None``."""
        if self.distributed:
            model_wrapper_cfg = ddp_buffer_sync_cfg(
                cpu_ddp_wrapper_cfg(model_wrapper_cfg))
        return super().wrap_model(model_wrapper_cfg, model)

