"""Install mm_cyclegan: ``pip install -e .`` (README: the full stack)."""
import os.path as osp

from setuptools import find_packages, setup


def _version() -> str:
    scope: dict = {}
    with open(osp.join('mm_cyclegan', 'version.py'), encoding='utf-8') as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='mm_cyclegan',
    version=_version(),
    description='CycleGAN (unpaired image-to-image translation) as an '
    'MMagic/MMEngine plugin: faithful, DDP-correct, exactly resumable.',
    long_description=open('README.md', encoding='utf-8').read()
    if osp.exists('README.md') else '',
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.9',
    packages=find_packages(include=['mm_cyclegan', 'mm_cyclegan.*']),
    # The loose runtime contract; requirements/runtime.txt pins the stack
    # measured to work (and is what the Makefile installs).
    # mmcv is not listed: either mmcv (<2.2, compiled) or mmcv-lite 2.1
    # satisfies MMagic, and pip cannot express 'one of the two'.
    install_requires=[
        'mmagic>=1.2.0,<1.3',
        'mmengine>=0.10.7,<0.11',
        'torch>=2.0',
        'numpy',
        'opencv-python-headless',
        'pillow',
        'tqdm',
    ],
    extras_require={
        'tensorboard': ['tensorboard'],
        # tools/export.py: ONNX export and its onnxruntime parity check.
        'export': ['onnx', 'onnxruntime'],
        # tools/serve.py, the page to try a model (requirements/serve.txt
        # pins the versions the Makefile installs).
        'serve': ['starlette>=0.37', 'uvicorn>=0.29'],
    },
    # The page's HTML, JS and CSS travel with the package.
    package_data={'mm_cyclegan.apis.deploy.serve': ['static/*']},
    zip_safe=False,
)
