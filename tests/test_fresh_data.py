"""``TrainConfig(n_data=0)``: fresh target samples at every update (the population regime of Theorem 1, issue 16).

Properties: the real batches really are fresh (no two updates share a point, unlike a finite data set) and follow the
target (KS against its CDF, with a wrong target rejected on the same draws); a fresh model's trajectory is bitwise
repeatable, independent of its pack neighbours (a finite-data neighbour included) and of an interruption (resume
from a checkpoint); a finite-data model's trajectory is unchanged by a fresh neighbour; bad sizes are refused.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats

from lsgan_theory import densities
from lsgan_theory.ensemble import TrainConfig, train
from lsgan_theory.ensemble import trainer as T

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py

BASE = dict(steps=30, batch=16, g_hidden=(8, 8), d_hidden=(8, 8), device="cpu", dtype="float64", record_every=1)


def _params(r):
    return r.g_params + r.d_params


def _same(r_a, i, r_b, j) -> bool:
    return (all(torch.equal(a[i], b[j]) for a, b in zip(_params(r_a), _params(r_b)))
            and np.array_equal(r_a.loss_d[i], r_b.loss_d[j]))


def test_fresh_batches_are_new_every_update_and_follow_the_target():
    # Mutation caught: reusing the counter of update 0 for every t (all batches equal) fails the "new points" check;
    # sampling from another density fails the KS check (the same check rejects N(0.3, 1) on the same draws: power).
    cfg = TrainConfig(target="beta(2,2)", n_models=2, n_data=(0, 8), **BASE)
    run = T.setup(cfg)
    # private: the batch of any update t (the public Observation.real_batch gives the last update's only)
    xs = torch.stack([T._real_batch(run, t) for t in range(200)])[..., 0]  # (T, E, B)
    fresh, finite = xs[:, 0].reshape(-1).numpy(), xs[:, 1].reshape(-1).numpy()
    assert np.unique(fresh).size == fresh.size  # 3200 distinct points: never a repeat
    assert np.unique(finite).size <= 8  # the negative control: a data set of 8 points repeats them
    p = densities.parse("beta(2,2)")
    assert stats.kstest(fresh, lambda x: p.cdf(x)).pvalue > 1e-3
    wrong = densities.parse("beta(2.5,2.5)")
    assert stats.kstest(fresh, lambda x: wrong.cdf(x)).pvalue < 1e-3
    # the batch of update t is a pure function of (seed, model id, t): recomputed later it is bitwise the same
    assert torch.equal(T._real_batch(run, 17), xs[17, :, :, None])  # private: recomputed from its keys


def test_fresh_model_is_bitwise_repeatable_and_independent_of_its_neighbours():
    # model id 5 with fresh data, trained alone and beside a finite-data model (id 2) and another fresh one (id 9)
    alone = train(TrainConfig(n_models=1, model_ids=(5,), n_data=0, **BASE))
    again = train(TrainConfig(n_models=1, model_ids=(5,), n_data=0, **BASE))
    pack = train(TrainConfig(n_models=3, model_ids=(2, 5, 9), n_data=(64, 0, 0), lam=(1.0, 1.0, 10.0), **BASE))
    assert _same(alone, 0, again, 0)
    assert _same(alone, 0, pack, 1)
    # the finite-data model is unchanged by its fresh neighbours (its own data and batch streams)
    finite = train(TrainConfig(n_models=1, model_ids=(2,), n_data=64, **BASE))
    assert _same(finite, 0, pack, 0)
    # negative control: the same model with a finite data set follows another trajectory, so _same can fail
    assert not _same(alone, 0, train(TrainConfig(n_models=1, model_ids=(5,), n_data=64, **BASE)), 0)


class _Interrupt(Exception):
    pass


def test_fresh_data_run_resumes_bitwise(tmp_path):
    cfg = TrainConfig(n_models=2, n_data=(0, 32), **BASE)
    whole = train(cfg)
    ck = tmp_path / "ck.pt"

    def stop(step, *_):
        if step == 17:
            raise _Interrupt

    with pytest.raises(_Interrupt):
        train(cfg, callback=stop, checkpoint=ck, checkpoint_every=5)
    resumed = train(cfg, checkpoint=ck, checkpoint_every=5)
    for e in range(2):
        assert _same(resumed, e, whole, e)


@pytest.mark.parametrize("bad,exc", [(-1, ValueError), ((0, -3), ValueError), (1.5, TypeError)])
def test_negative_or_non_integer_n_data_is_refused_naming_the_field(bad, exc):
    n = len(bad) if isinstance(bad, tuple) else 1
    with pytest.raises(exc, match=r"n_data.*(>= 0|integer)"):
        TrainConfig(n_models=n, n_data=bad, device="cpu")
