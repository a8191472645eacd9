"""Exact semantics of the image pool under a fixed seed."""
import pytest
import torch

from mm_cyclegan.engine.image_pool import ImagePool


def _images(start, count):
    """Images whose every pixel equals their id, so ids can be read back."""
    return torch.stack([torch.full((1, 2, 2), float(i))
                        for i in range(start, start + count)])


def _ids(batch):
    return [int(img[0, 0, 0]) for img in batch]


def _expected(seed, size, prob, batches):
    """The reference algorithm, written out with the same draws."""
    gen = torch.Generator().manual_seed(seed)
    stored, returned = [], []
    for batch in batches:
        out = []
        for i in batch:
            if len(stored) < size:
                stored.append(i)
                out.append(i)
                continue
            if torch.rand((), generator=gen).item() < prob:
                slot = int(torch.randint(0, size, (), generator=gen).item())
                out.append(stored[slot])
                stored[slot] = i
            else:
                out.append(i)
        returned.append(out)
    return stored, returned


def test_fills_then_swaps_exactly():
    pool = ImagePool(size=3, swap_prob=0.5, seed=7)
    batches = [list(range(k * 2, k * 2 + 2)) for k in range(10)]
    got = [_ids(pool.query(_images(b[0], len(b)))) for b in batches]
    stored, expected = _expected(7, 3, 0.5, batches)
    # The first three images fill the pool and come back unchanged.
    assert got[0] == [0, 1] and got[1][0] == 2
    assert got == expected
    assert [int(img[0, 0, 0]) for img in pool.images] == stored
    # With p=0.5 over 17 draws some stored images must have come back.
    assert any(g != b for g, b in zip(got, batches))


def test_size_zero_is_pass_through():
    pool = ImagePool(size=0)
    batch = _images(0, 4)
    assert pool.query(batch) is batch
    assert len(pool) == 0


def test_prob_one_always_swaps_prob_zero_never():
    always = ImagePool(size=2, swap_prob=1.0, seed=0)
    never = ImagePool(size=2, swap_prob=0.0, seed=0)
    for pool in (always, never):
        pool.query(_images(0, 2))
    out_always = _ids(always.query(_images(10, 4)))
    out_never = _ids(never.query(_images(10, 4)))
    assert out_never == [10, 11, 12, 13]
    # p=1: every incoming image is swapped, so none comes straight back.
    assert all(out != inc for out, inc in zip(out_always, range(10, 14)))
    assert out_always[0] in (0, 1)


def test_state_dict_round_trip_continues_identically():
    pool = ImagePool(size=4, seed=3)
    for k in range(5):
        pool.query(_images(k * 3, 3))
    state = pool.state_dict()
    clone = ImagePool(size=4, seed=999)  # different seed: state must win
    clone.load_state_dict(state)
    for k in range(5, 12):
        a = _ids(pool.query(_images(k * 3, 3)))
        b = _ids(clone.query(_images(k * 3, 3)))
        assert a == b
    assert torch.equal(torch.stack(pool.images), torch.stack(clone.images))


def test_state_survives_torch_save(tmp_path):
    pool = ImagePool(size=2, seed=1)
    pool.query(_images(0, 3))
    torch.save(pool.state_dict(), tmp_path / 'pool.pth')
    clone = ImagePool(size=2)
    clone.load_state_dict(torch.load(tmp_path / 'pool.pth',
                                     weights_only=True))
    assert _ids(clone.query(_images(5, 4))) == _ids(
        pool.query(_images(5, 4)))


def test_does_not_touch_global_rng():
    torch.manual_seed(0)
    before = torch.get_rng_state()
    pool = ImagePool(size=1, seed=0)
    for k in range(5):
        pool.query(_images(k, 1))
    assert torch.equal(before, torch.get_rng_state())


@pytest.mark.parametrize('kwargs, match', [
    (dict(size=-1), '-1'),
    (dict(size=2.5), '2.5'),
    (dict(size=1, swap_prob=1.5), '1.5'),
])
def test_invalid_arguments_name_the_value(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        ImagePool(**kwargs)


def _filled(size, count, swap_prob=0.5, seed=0):
    pool = ImagePool(size=size, swap_prob=swap_prob, seed=seed)
    for k in range(count):
        pool.query(torch.full((1, 1, 2, 2), float(k)))
    return pool


def test_load_of_a_larger_pool_keeps_the_configured_size():
    saved = _filled(size=3, count=3, swap_prob=0.9)
    pool = ImagePool(size=2, swap_prob=0.5)
    notes = pool.load_state_dict(saved.state_dict())
    assert pool.size == 2 and pool.swap_prob == 0.5
    assert len(pool) == 2
    assert torch.equal(torch.stack(pool.images),
                       torch.stack(saved.images[:2]))
    assert torch.equal(pool.generator.get_state(),
                       saved.generator.get_state())
    text = ' '.join(notes)
    assert 'size 3' in text and 'swap_prob 0.9' in text and '2 of the 3' \
        in text


def test_load_of_a_smaller_pool_restores_it_and_fills_up():
    saved = _filled(size=2, count=2)
    pool = ImagePool(size=4)
    notes = pool.load_state_dict(saved.state_dict())
    assert len(notes) == 1 and 'size 2' in notes[0]
    assert len(pool) == 2
    pool.query(torch.full((1, 1, 2, 2), 9.0))
    assert len(pool) == 3


def test_load_of_a_matching_pool_says_nothing():
    saved = _filled(size=2, count=1)
    assert ImagePool(size=2).load_state_dict(saved.state_dict()) == []


def test_make_image_pools_seeds_each_rank_and_domain_apart():
    from mm_cyclegan.engine import make_image_pools
    states = []
    for rank in (0, 1):
        pools = make_image_pools(3, 0.5, seed=7, rank=rank)
        assert pools.a.size == pools.b.size == 3
        states += [pools.a.generator.get_state(),
                   pools.b.generator.get_state()]
    assert len({bytes(s.numpy()) for s in states}) == 4
    again = make_image_pools(3, 0.5, seed=7, rank=1)
    assert torch.equal(again.b.generator.get_state(), states[3])
    with pytest.raises(ValueError, match='-1'):
        make_image_pools(seed=-1)
