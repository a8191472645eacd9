"""Child registries of MMagic's, under the scope ``mm_cyclegan``.

Every registry names the package that holds its components in ``locations``,
so building ``dict(type='mm_cyclegan.X')`` (or ``type='X'`` with
``default_scope='mm_cyclegan'``) imports the module that registers ``X``
first. MMagic's own components stay reachable as ``'mmagic.Y'``.
"""
from mmagic.registry import DATA_SAMPLERS as MMAGIC_DATA_SAMPLERS
from mmagic.registry import DATASETS as MMAGIC_DATASETS
from mmagic.registry import HOOKS as MMAGIC_HOOKS
from mmagic.registry import LOG_PROCESSORS as MMAGIC_LOG_PROCESSORS
from mmagic.registry import LOOPS as MMAGIC_LOOPS
from mmagic.registry import METRICS as MMAGIC_METRICS
from mmagic.registry import MODEL_WRAPPERS as MMAGIC_MODEL_WRAPPERS
from mmagic.registry import MODELS as MMAGIC_MODELS
from mmagic.registry import (
    OPTIM_WRAPPER_CONSTRUCTORS as MMAGIC_OPTIM_WRAPPER_CONSTRUCTORS,
)
from mmagic.registry import OPTIM_WRAPPERS as MMAGIC_OPTIM_WRAPPERS
from mmagic.registry import OPTIMIZERS as MMAGIC_OPTIMIZERS
from mmagic.registry import PARAM_SCHEDULERS as MMAGIC_PARAM_SCHEDULERS
from mmagic.registry import RUNNERS as MMAGIC_RUNNERS
from mmagic.registry import TRANSFORMS as MMAGIC_TRANSFORMS
from mmagic.registry import VISBACKENDS as MMAGIC_VISBACKENDS
from mmagic.registry import VISUALIZERS as MMAGIC_VISUALIZERS
from mmengine.registry import Registry

SCOPE = 'mm_cyclegan'


def _child(name: str, parent: Registry, location: str) -> Registry:
    return Registry(name, parent=parent, scope=SCOPE, locations=[location])


MODELS = _child('model', MMAGIC_MODELS, 'mm_cyclegan.models')
MODEL_WRAPPERS = _child('model_wrapper', MMAGIC_MODEL_WRAPPERS,
                        'mm_cyclegan.engine')
DATASETS = _child('dataset', MMAGIC_DATASETS, 'mm_cyclegan.datasets')
DATA_SAMPLERS = _child('data sampler', MMAGIC_DATA_SAMPLERS,
                       'mm_cyclegan.datasets')
TRANSFORMS = _child('transform', MMAGIC_TRANSFORMS, 'mm_cyclegan.datasets')
HOOKS = _child('hook', MMAGIC_HOOKS, 'mm_cyclegan.engine')
# Without it every run warns that scope 'mm_cyclegan' has no log_processor.
LOG_PROCESSORS = _child('log_processor', MMAGIC_LOG_PROCESSORS,
                        'mm_cyclegan.engine')
LOOPS = _child('loop', MMAGIC_LOOPS, 'mm_cyclegan.engine')
RUNNERS = _child('runner', MMAGIC_RUNNERS, 'mm_cyclegan.engine')
PARAM_SCHEDULERS = _child('parameter scheduler', MMAGIC_PARAM_SCHEDULERS,
                          'mm_cyclegan.engine')
OPTIM_WRAPPERS = _child('optim_wrapper', MMAGIC_OPTIM_WRAPPERS,
                        'mm_cyclegan.engine')
OPTIMIZERS = _child('optimizer', MMAGIC_OPTIMIZERS, 'mm_cyclegan.engine')
OPTIM_WRAPPER_CONSTRUCTORS = _child('optimizer wrapper constructor',
                                    MMAGIC_OPTIM_WRAPPER_CONSTRUCTORS,
                                    'mm_cyclegan.engine')
METRICS = _child('metric', MMAGIC_METRICS, 'mm_cyclegan.evaluation')
VISUALIZERS = _child('visualizer', MMAGIC_VISUALIZERS,
                     'mm_cyclegan.engine')
VISBACKENDS = _child('vis_backend', MMAGIC_VISBACKENDS, 'mm_cyclegan.engine')
