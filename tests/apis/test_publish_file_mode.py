"""Published files get the usual permissions (0666 minus the umask)."""
import os
import stat

import pytest

from mm_cyclegan.apis.weights.published import publish
from tests.apis.fixtures import write_checkpoint


@pytest.mark.parametrize('umask', [0o022, 0o077])
def test_published_files_follow_the_umask(tmp_path, umask):
    weights = tmp_path / 'iter_7.pth'
    write_checkpoint(weights)
    old = os.umask(umask)
    try:
        tensors, meta = publish(str(weights), str(tmp_path / 'release'))
    finally:
        os.umask(old)
    for path in (tensors, meta):
        mode = stat.S_IMODE(os.stat(path).st_mode)
        assert mode == 0o666 & ~umask, (path, oct(mode))
    from safetensors.torch import load_file
    assert any(k.startswith('generator_a2b.') for k in load_file(tensors))
