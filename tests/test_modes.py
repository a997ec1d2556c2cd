"""Mode collapse (issue 17): mode statistics on hand-built samples, per-model batch norm, packing, maxout, the runner.

Mutations these tests were run against (each made the named test fail):

* ``net_forward``'s BN statistics over the model axis too (``dim=(0, 2)`` instead of ``dim=2``):
  ``test_batchnorm_statistics_never_mix_models`` and ``test_bn_model_alone_equals_model_in_ensemble_bitwise``;
* ``pack_rows`` concatenating in the wrong order (``reshape(E, N // k, k * d)`` without the transpose):
  ``test_packed_discriminator_sees_concatenated_samples``;
* ``_noise`` using counter ``t * pack + j + 1``: ``test_pack_one_is_the_unpacked_trainer_exactly``;
* maxout over the wrong axis (``reshape(E, N, p, -1)``): ``test_maxout_matches_a_naive_loop``;
* ``mode_statistics`` with ``<=`` replaced by a radius of 4σ: ``test_mode_statistics_three_sigma_boundary``.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from lsgan_theory import densities, losses, metrics
from lsgan_theory.ensemble import TrainConfig, train
from lsgan_theory.ensemble import mlp as M
from lsgan_theory.ensemble import rng as R
from lsgan_theory.ensemble import trainer as T
from lsgan_theory.studies import modes as S

RING = densities.Ring(8, 1.0, 0.01)


def _around(centres, per_mode, std, rng):
    """per_mode[k] points within 2σ of centre k (radius 0.5σ–2σ, uniform angle): high quality by construction."""
    pts = []
    for c, n in zip(centres, per_mode):
        r = rng.uniform(0.5, 2.0, n) * std
        a = rng.uniform(0, 2 * np.pi, n)
        pts.append(c + np.stack([r * np.cos(a), r * np.sin(a)], 1))
    return np.concatenate(pts)


# ---------------------------------------------------------------------------------------------------- metrics
def test_mode_statistics_sample_missing_two_modes():
    rng = np.random.default_rng(0)
    x = _around(RING.centres, [300] * 6 + [0, 0], RING.std, rng)
    st = metrics.mode_statistics(x, RING.centres, RING.std, min_count=metrics.PACGAN_MIN_COUNT)
    assert st.modes == 6 and st.high_quality == 1.0
    assert st.reverse_kl == pytest.approx(math.log(8 / 6), abs=1e-12)  # uniform on 6 of 8: Σ (1/6) log(8/6)


def test_mode_statistics_ten_percent_off_mode():
    rng = np.random.default_rng(1)
    good = _around(RING.centres, [225] * 8, RING.std, rng)  # 1800 points
    off = rng.normal(0.0, 0.05, (200, 2))  # near the origin: distance ≈ 1 = 100σ from every centre
    st = metrics.mode_statistics(np.concatenate([good, off]), RING.centres, RING.std)
    assert st.modes == 8 and st.high_quality == pytest.approx(0.9, abs=1e-12) and st.reverse_kl == 0.0


def test_mode_statistics_perfectly_balanced_has_zero_reverse_kl():
    x = np.repeat(RING.centres, 5, axis=0)
    st = metrics.mode_statistics(x, RING.centres, RING.std)
    assert st.reverse_kl == 0.0 and st.high_quality == 1.0
    # negative control: move one point from mode 0 to mode 1 -> counts 4, 6, 5, ..., 5 of 40: rKL > 0 exactly
    y = x.copy()
    y[0] = RING.centres[1]
    want = 0.1 * math.log(8 * 0.1) + 0.15 * math.log(8 * 0.15)
    assert want > 0.005
    assert metrics.mode_statistics(y, RING.centres, RING.std).reverse_kl == pytest.approx(want, rel=1e-12)


def test_pacgan_count_differs_from_veegan_threshold():
    rng = np.random.default_rng(2)
    x = _around(RING.centres, [300] * 7 + [3], RING.std, rng)  # the last mode has 3 samples
    assert metrics.mode_statistics(x, RING.centres, RING.std, min_count=metrics.PACGAN_MIN_COUNT).modes == 8
    assert metrics.mode_statistics(x, RING.centres, RING.std, min_count=metrics.VEEGAN_MIN_COUNT).modes == 7


def test_mode_statistics_three_sigma_boundary():
    c = RING.centres[:1]
    inside = c + np.array([[2.99 * RING.std, 0.0]])
    outside = c + np.array([[3.01 * RING.std, 0.0]])
    assert metrics.mode_statistics(inside, c, RING.std, min_count=1).high_quality == 1.0
    assert metrics.mode_statistics(outside, c, RING.std, min_count=1).high_quality == 0.0


# ---------------------------------------------------------------------------------------------------- batch norm
def _bn_spec():
    return M.NetSpec((3, 5, 4, 2), "relu", 1, True)


def test_batchnorm_statistics_never_mix_models():
    spec = _bn_spec()
    ids = torch.tensor([3, 8], dtype=torch.int64)
    params = M.init_net(spec, 0, ids, 1, init="normal", init_std=0.5, dtype=torch.float64)
    x = torch.randn(2, 16, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    out = M.net_forward(params, x, spec)
    x2 = x.clone()
    x2[1] = 1000.0 * x2[1] + 7.0  # only model 1's batch changes
    out2 = M.net_forward(params, x2, spec)
    assert torch.equal(out[0], out2[0])
    assert not torch.allclose(out[1], out2[1])
    # the same as torch's BatchNorm1d in training mode applied to each model on its own
    for e in range(2):
        h = x[e]
        for l in range(2):
            a = h @ params[2 * l][e]
            a = torch.nn.functional.batch_norm(a, None, None, params[6 + l][e, 0], params[2 * l + 1][e, 0],
                                               training=True, eps=M.BN_EPS)
            h = torch.relu(a)
        ref = h @ params[4][e] + params[5][e]
        torch.testing.assert_close(out[e], ref, rtol=1e-12, atol=1e-12)


def test_batchnorm_groups_normalise_each_noise_batch_separately():
    spec = _bn_spec()
    params = M.init_net(spec, 0, torch.tensor([1]), 1, init="normal", init_std=0.5, dtype=torch.float64)
    x = torch.randn(1, 20, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    both = M.net_forward(params, x, spec, groups=2)
    torch.testing.assert_close(both[:, :10], M.net_forward(params, x[:, :10], spec), rtol=0, atol=1e-14)
    torch.testing.assert_close(both[:, 10:], M.net_forward(params, x[:, 10:], spec), rtol=0, atol=1e-14)


def test_batchnorm_inference_uses_running_statistics():
    spec = _bn_spec()
    params = M.init_net(spec, 0, torch.tensor([1, 2]), 1, init="normal", init_std=0.5, dtype=torch.float64)
    x = torch.randn(2, 50, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    stats = []
    M.net_forward(params, x, spec, stats=stats)
    # with momentum 1 the running statistics are the batch statistics: inference on the same batch = training mode
    running = M.update_bn_state(M.init_bn_state(spec, 2, dtype=torch.float64), stats, momentum=1.0)
    torch.testing.assert_close(M.net_forward(params, x, spec, running=running), M.net_forward(params, x, spec),
                               rtol=1e-12, atol=1e-12)
    # PacGAN's update: 0.95 old + 0.05 batch
    r = M.update_bn_state(M.init_bn_state(spec, 2, dtype=torch.float64), stats)
    torch.testing.assert_close(r[0], 0.05 * stats[0], rtol=1e-15, atol=0)
    torch.testing.assert_close(r[1], 0.95 + 0.05 * stats[1], rtol=1e-15, atol=0)


_ARCH = dict(target="grid(5,2,0.05)", noise_dim=2, g_hidden=(16, 16), d_hidden=(8, 8), batch=32, n_data=512,
             steps=6, g_batchnorm=True, d_batchnorm=True, d_pieces=3, pack=2, init="normal", device="cpu",
             beta1=0.8, lr_d=1e-3, lr_g=1e-3)


@pytest.mark.parametrize("dtype", ["float32", pytest.param("float64", marks=pytest.mark.slow)])
def test_bn_model_alone_equals_model_in_ensemble_bitwise(dtype):
    both = TrainConfig(**_ARCH, n_models=2, model_ids=(5, 9), family=("gan_ns", "least_squares"), dtype=dtype)
    alone = both.select([0])
    a, b = train(alone), train(both)
    for p, q in zip(a.g_params + a.d_params, b.g_params + b.d_params):
        assert torch.equal(p[0], q[0])
    for p, q in zip(a.extra["g_bn"], b.extra["g_bn"]):
        assert torch.equal(p[0], q[0])
    assert np.array_equal(a.loss_d[0], b.loss_d[0])


def test_bn_resume_is_bitwise(tmp_path):
    cfg = TrainConfig(**_ARCH, n_models=2, family="hinge")
    full = train(cfg)
    ck = tmp_path / "ck.pt"
    calls = []

    def stop(step, *_):
        calls.append(step)
        if step == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(cfg, stop, checkpoint=ck, checkpoint_every=100)
    resumed = train(cfg, checkpoint=ck)
    for p, q in zip(full.g_params + full.extra["g_bn"], resumed.g_params + resumed.extra["g_bn"]):
        assert torch.equal(p, q)


# ---------------------------------------------------------------------------------------------------- packing
def _manual_first_steps(cfg):
    """One D and one G update computed by hand the way the trainer did before packing existed (mlp_forward on
    unpacked (E, B, d) batches, noise keys = the update index)."""
    run = T.setup(cfg)
    st = T.init_state(run)
    c = cfg
    x = T._real_batch(run, 0)  # private: update 0's batch, as the trainer computed it
    z = R.step_normal(c.seed, run.ids, R.STREAMS["noise_d"], 0, (c.batch, c.noise_dim), dtype=run.dtype)
    fake = M.mlp_forward(st.g_params, z, c.activation).detach()
    dp = tuple(p.detach().requires_grad_(True) for p in st.d_params)
    loss = losses.gan_discriminator_loss(M.mlp_forward(dp, x, c.activation).squeeze(-1),
                                         M.mlp_forward(dp, fake, c.activation).squeeze(-1))
    g = torch.autograd.grad(loss.sum(), dp)
    ups, _ = run.opt_d.update(g, st.opt_d, dp)
    d_new = tuple(p.detach() + u for p, u in zip(dp, ups))
    zg = R.step_normal(c.seed, run.ids, R.STREAMS["noise_g"], 0, (c.batch, c.noise_dim), dtype=run.dtype)
    gp = tuple(p.detach().requires_grad_(True) for p in st.g_params)
    lg = losses.gan_generator_loss_non_saturating(M.mlp_forward(d_new, M.mlp_forward(gp, zg, c.activation),
                                                                 c.activation).squeeze(-1))
    gg = torch.autograd.grad(lg.sum(), gp)
    ups, _ = run.opt_g.update(gg, st.opt_g, gp)
    return d_new, tuple(p.detach() + u for p, u in zip(gp, ups))


def test_pack_one_is_the_unpacked_trainer_exactly():
    cfg = TrainConfig(target="ring(8,1,0.05)", noise_dim=2, g_hidden=(8,), d_hidden=(8,), batch=16, n_data=256,
                      steps=1, n_models=3, family="gan_ns", pack=1, device="cpu")
    d_ref, g_ref = _manual_first_steps(cfg)
    res = train(cfg)
    # The trainer's fused in-place Adam and the reference's p + u round differently by a few float32 ulps on some
    # CPUs (bitwise equal on an AVX-512 Xeon, 2^-27 apart on an AMD EPYC): tolerance 1e-6, ~16 ulps of a weight
    # below 1. Power: one step moves the weights by ~lr = 1e-3 (control below), so a wrong batch or noise key
    # would be ~1000x the tolerance.
    for p, q in zip(res.d_params + res.g_params, d_ref + g_ref):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-6)
    st = T.init_state(T.setup(cfg))
    moved = max((p - q).abs().max().item() for p, q in zip(res.d_params + res.g_params, st.d_params + st.g_params))
    assert moved > 100 * 1e-6


def test_packed_discriminator_sees_concatenated_samples():
    cfg = TrainConfig(target="ring(8,1,0.05)", noise_dim=2, g_hidden=(8,), d_hidden=(8,), batch=4, n_data=64,
                      steps=1, n_models=2, family="gan_ns", pack=3, device="cpu")
    run = T.setup(cfg)
    packed = T._packed_real(run, 7)  # private: the packed batch of update 7 itself
    parts = [T._real_batch(run, 7 * 3 + j) for j in range(3)]  # private: its parts
    assert packed.shape == (2, 4, 6)
    for i in range(4):
        assert torch.equal(packed[:, i], torch.cat([p[:, i] for p in parts], dim=-1))
    assert torch.equal(M.pack_rows(parts[0], 1), parts[0])


def test_pack_changes_the_discriminator_input_dimension():
    cfg = TrainConfig(**{**_ARCH, "pack": 4, "steps": 2}, n_models=1, family="gan_ns")
    res = train(cfg)
    assert res.d_params[0].shape[1] == 4 * 2  # k·d inputs
    assert res.sample(10).shape == (1, 10, 2)


# ---------------------------------------------------------------------------------------------------- maxout
def test_maxout_matches_a_naive_loop():
    spec = M.NetSpec((4, 3, 1), "relu", pieces=5)
    params = M.init_net(spec, 1, torch.tensor([0, 1]), 1, init="normal", init_std=1.0, dtype=torch.float64)
    assert params[0].shape == (2, 4, 15)
    x = torch.randn(2, 7, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    out = M.net_forward(params, x, spec)
    W0, b0, W1, b1 = (p.numpy() for p in params)
    xn = x.numpy()
    for e in range(2):
        for i in range(7):
            h = [max(sum(xn[e, i, a] * W0[e, a, j * 5 + q] for a in range(4)) + b0[e, 0, j * 5 + q] for q in range(5))
                 for j in range(3)]
            ref = sum(h[j] * W1[e, j, 0] for j in range(3)) + b1[e, 0, 0]
            assert out[e, i, 0].item() == pytest.approx(ref, abs=1e-12)


def test_plain_netspec_is_mlp_forward_and_uniform_init_is_init_mlp():
    spec = M.NetSpec((2, 6, 1), "tanh")
    ids = torch.tensor([4, 2])
    p1 = M.init_net(spec, 3, ids, 1)
    p2 = M.init_mlp(M.MLPSpec((2, 6, 1), "tanh"), 3, ids, 1)
    assert all(torch.equal(a, b) for a, b in zip(p1, p2))


def test_normal_init_has_the_requested_scale_and_zero_bias():
    spec = M.NetSpec((200, 200, 1), "relu", pieces=5)
    p = M.init_net(spec, 0, torch.tensor([0]), 1, init="normal", init_std=0.02, dtype=torch.float64)
    w = p[0].flatten()
    # sd of the sample sd of n normals: σ/√(2n); n = 200·1000 -> 3e-5, tolerance 5 of those
    assert abs(w.std().item() - 0.02) < 5 * 0.02 / math.sqrt(2 * w.numel())
    assert torch.count_nonzero(p[1]) == 0


def test_architecture_fields_are_validated():
    with pytest.raises(ValueError, match="init"):
        TrainConfig(init="xavier")
    with pytest.raises(ValueError, match="init_std"):
        TrainConfig(init_std=0.1)
    with pytest.raises(ValueError, match="pack"):
        TrainConfig(pack=0)
    with pytest.raises(TypeError, match="g_batchnorm"):
        TrainConfig(g_batchnorm="yes")
    with pytest.raises(ValueError, match="spectral_norm"):
        TrainConfig(d_batchnorm=True, spectral_norm=True)


# ---------------------------------------------------------------------------------------------------- runner
_QUICK = """
[experiment]
name = "t"
seeds = 2
losses = ["gan_ns", "ls_011"]
n_eval = 200
eval_at = [0, 1, 2]
eval_of = 2
mre_points = 5
mre_restarts = 1
mre_steps = 3
checkpoint_every = 3
[train]
target = "ring(8,1,0.05)"
steps = 8
batch = 16
n_data = 256
noise_dim = 2
g_hidden = [8]
d_hidden = [8]
[grid]
pack = [1, 2]
"""


@pytest.mark.slow
def test_runner_resumes_after_interruption_to_the_same_numbers(tmp_path):
    spec = S.parse_modes_spec(_QUICK)
    ref = S.run_modes(spec)
    seen = []

    def stop(si, n, step, steps):
        seen.append((si, step))
        if (si, step) == (1, 4):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        S.run_modes(spec, tmp_path, progress=stop)
    again = S.run_modes(spec, tmp_path)
    key = lambda r: (json.dumps(r.get("pack")), r["loss"], r["replica"], r["step"])  # noqa: E731
    a = sorted(ref.metrics, key=key)
    b = sorted(again.metrics, key=key)
    assert len(a) == len(b) == 2 * 2 * 2 * 3
    for r, s in zip(a, b):
        assert r == s or all((r[k] == s[k]) or (r[k] != r[k] and s[k] != s[k]) for k in r)
    assert [r["mre"] for r in ref.mre] == [r["mre"] for r in again.mre]


def test_runner_ctrl_c_mid_step_saves_through_the_engine_and_resumes_to_the_same_numbers(tmp_path, monkeypatch, python_sigint):
    # The study trains on ensemble.train (its evaluations are the engine's observer records): a real SIGINT inside a
    # D update of the second setting (step 5) is held until the step ends, the engine writes its checkpoint with
    # the evaluations of steps 0 and 4 in it, and the resumed study ends with exactly the uninterrupted numbers.
    import os
    import signal

    spec = S.parse_modes_spec(_QUICK)
    ref = S.run_modes(spec)
    real = T.d_step
    calls = {"n": 0}

    def d_step(run, state, step, t):
        out = real(run, state, step, t)
        if run.config.pack == 2 and step == 5:
            os.kill(os.getpid(), signal.SIGINT)
        return out

    monkeypatch.setattr(T, "d_step", d_step)
    with pytest.raises(KeyboardInterrupt):
        S.run_modes(spec, tmp_path)
    monkeypatch.setattr(T, "d_step", real)
    cks = sorted(tmp_path.glob("*.pt"))
    saved = [torch.load(p, weights_only=True) for p in cks]
    partial = [c for c in saved if c["config"]["pack"] == 2]
    assert len(partial) == 1 and partial[0]["step"] == 5 and [n for n, _ in partial[0]["observed"]] == [0, 4]
    done = [c for c in saved if c["config"]["pack"] == 1]
    assert len(done) == 1 and done[0]["step"] == 7  # the first setting completed (its last step, 7), its MRE in its last record
    assert [n for n, _ in done[0]["observed"]] == [0, 4, 8] and "mre" in done[0]["observed"][-1][1]
    assert not list(tmp_path.glob("*.json"))  # no store beside the engine's checkpoints

    def counting(si, n, step, steps):
        calls["n"] += 1

    again = S.run_modes(spec, tmp_path, progress=counting)
    assert calls["n"] == 1  # only the last evaluation (step 8) of the interrupted setting was still to do
    key = lambda r: (json.dumps(r.get("pack")), r["loss"], r["replica"], r["step"])  # noqa: E731
    assert json.dumps(sorted(ref.metrics, key=key)) == json.dumps(sorted(again.metrics, key=key))
    assert [r["mre"] for r in ref.mre] == [r["mre"] for r in again.mre]


def test_runner_freezes_diverging_models_through_the_engine():
    # lr_D = 1e76 (float64): every critic diverges; the engine freezes each model at the step train() reports, the
    # study's rows after it say frozen with NaN metrics (before it: finite), and its MRE is NaN.
    spec = S.parse_modes_spec(_QUICK.replace("[train]", "[train]\nlr_d = 1e76\ndtype = \"float64\"")
                              .replace("pack = [1, 2]", "pack = [1]"))
    res = S.run_modes(spec)
    cfg = S.ensemble_config(spec, spec.settings()[0])
    div = dict(zip(cfg.ids(), train(cfg).diverged_step.tolist()))
    assert any(k >= 0 for k in div.values())
    for r in res.metrics:
        k = div[r["model_id"]]
        frozen = 0 <= k < r["step"]
        assert r["frozen"] == frozen and (math.isnan(r["modes"]) == frozen), (r, k)
    assert all(math.isnan(r["mre"]) == (div[r["model_id"]] >= 0) for r in res.mre)


def test_summaries_and_intervals():
    p, lo, hi = S.wilson_interval(0, 10)
    assert p == 0 and lo == 0 and 0.25 < hi < 0.32  # Wilson 95 %: upper end 0.278
    m, lo, hi = S.t_interval([1.0, 2.0, 3.0])
    assert m == 2.0 and hi - m == pytest.approx(4.302652729911275 / math.sqrt(3), rel=1e-9)
    rows = [{"loss": "a", "step": 5, "replica": r, "model_id": r, "frozen": False, "modes": v, "modes_20": v,
             "high_quality": 1.0, "reverse_kl": 0.0} for r, v in enumerate([8, 8, 5, 8])]
    (s,) = S.summarize_modes(rows, 8)
    assert s["n_collapsed"] == 1 and s["collapsed"] == 0.25 and s["modes"] == pytest.approx(7.25)
    traj = [{"loss": "a", "model_id": 1, "replica": 0, "step": t, "modes": v, "modes_20": v, "high_quality": 1,
             "reverse_kl": 0, "frozen": False} for t, v in [(0, 2), (5, 8), (15, 3), (25, 2)]]
    assert S.collapse_step(traj, 8)[0]["collapse_step"] == 15


def test_summary_intervals_respect_ranges_and_reverse_kl_lists_seeds_without_high_quality_samples():
    # issue 32: a t-interval of bounded values reaches past the bound (mean 7.75 of 8, 8, 8, 7: hi ≈ 8.55) -- clipped
    # to [0, K]; the reverse KL of a seed with no high-quality sample is undefined (inf): its mean is over the other
    # seeds, which are counted, and the seed is listed, not dropped silently.  Mutation: averaging the inf, or
    # leaving it out uncounted, fails here.
    rkl = [0.1, 0.3, math.inf, 0.2]
    nhq = [40, 5, 0, 25]
    rows = [{"loss": "a", "step": 5, "replica": r, "model_id": r, "frozen": False, "modes": v, "modes_20": w,
             "high_quality": h, "reverse_kl": k, "n_hq": n}
            for r, (v, w, h, k, n) in enumerate(zip([8, 8, 8, 7], [1, 0, 0, 0], [0.02, 0.0025, 0.0, 0.0125], rkl,
                                                    nhq))]
    (s,) = S.summarize_modes(rows, 8)
    assert s["modes"] == pytest.approx(7.75) and s["modes_hi"] == 8.0 and s["modes_lo"] < 7.75
    assert s["modes_20_lo"] == 0.0 and s["high_quality_lo"] == 0.0           # clipped at the lower bound
    assert s["reverse_kl"] == pytest.approx(0.2) and s["reverse_kl_seeds"] == 3
    assert s["reverse_kl_lo"] >= 0.0 and s["reverse_kl_hi"] <= math.log(8)
    assert s["no_hq_replicas"] == [2] and s["n_hq_min"] == 5 and s["n_hq_median"] == 25 and s["frozen"] == 0
    # private: the report table's cell texts (claim code, no public face)
    from lsgan_theory._claims.modes import _no_hq, _rkl_basis

    assert _rkl_basis(s) == "3 seeds; 5 / 25" and _no_hq(s) == "1 (replicas 2)"
    frozen = rows + [{"loss": "a", "step": 5, "replica": 4, "model_id": 4, "frozen": True, "modes": math.nan,
                      "modes_20": math.nan, "high_quality": math.nan, "reverse_kl": math.nan, "n_hq": math.nan}]
    (f,) = S.summarize_modes(frozen, 8)
    assert f["frozen"] == 1 and f["no_hq_replicas"] == [2] and f["n_collapsed"] == 2
    assert _no_hq(f) == "1 (replicas 2); 1 frozen"


def test_spec_errors_name_the_key():
    with pytest.raises(S.ModesSpecError, match="losses"):
        S.parse_modes_spec(_QUICK.replace('"ls_011"', '"nope"'))
    with pytest.raises(S.ModesSpecError, match="family"):
        S.parse_modes_spec(_QUICK.replace("steps = 8", "steps = 8\nfamily = \"gan\""))
    with pytest.raises(S.ModesSpecError, match="target"):
        S.parse_modes_spec(_QUICK.replace('"ring(8,1,0.05)"', '"normal(0,1)"'))
    with pytest.raises(ValueError, match="variant"):
        S.parse_modes_spec(_QUICK, variant="huge")





def test_a_finished_setting_is_its_checkpoint_and_a_rerun_trains_nothing(tmp_path, monkeypatch):
    # issue 28: the study keeps no store of its own -- the MRE is the observer's last record, so the engine's
    # checkpoint is the whole result.  A rerun loads it without one training step and returns the same numbers.
    spec = S.parse_modes_spec(_QUICK.replace("pack = [1, 2]", "pack = [1]"))
    ref = S.run_modes(spec, tmp_path)
    assert [p.suffix for p in tmp_path.iterdir()] == [".pt"]

    def no_step(*a, **k):
        raise AssertionError("a finished setting trained again")

    monkeypatch.setattr(T, "d_step", no_step)
    monkeypatch.setattr(T, "g_step", no_step)
    real_mre = S._mre_rows  # private: the MRE, costly at full size, must not be recomputed either
    monkeypatch.setattr(S, "_mre_rows", no_step)  # private: as above
    again = S.run_modes(spec, tmp_path)
    monkeypatch.setattr(S, "_mre_rows", real_mre)  # private: restored for the old-checkpoint part
    assert json.dumps(again.metrics) == json.dumps(ref.metrics)
    assert [r["mre"] for r in again.mre] == [r["mre"] for r in ref.mre] and len(ref.mre) == 4
    # a checkpoint finished before the MRE was a record (its last record has none): computed from the final
    # parameters, the same numbers; control: the records alone would give no MRE rows
    (ck,) = tmp_path.glob("*.pt")
    doc = torch.load(ck, weights_only=True)
    doc["observed"] = tuple((n, {k: v for k, v in rec.items() if k != "mre"}) for n, rec in doc["observed"])
    torch.save(doc, ck)
    assert not any("mre" in rec for _, rec in torch.load(ck, weights_only=True)["observed"])
    old = S.run_modes(spec, tmp_path)
    assert [r["mre"] for r in old.mre] == [r["mre"] for r in ref.mre]
