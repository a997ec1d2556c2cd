"""CLS-GAN engine (lsgan_theory.ensemble.conditional): objectives against independent implementations, the classifier
on a problem with a known Bayes error, the separation of labelled and unlabelled data, freezing, resumption, bad
input."""

import math

import numpy as np
import pytest
import torch
from scipy.special import logsumexp, ndtr

from lsgan_theory.ensemble import mlp, optim
from lsgan_theory.ensemble import conditional as C


@pytest.fixture(autouse=True)
def _one_thread():
    """Small batched networks: one intra-op thread.  Measured on the shared 2-core machine under load ~15: 41 ms per
    toy step with one thread, 450 ms with two (oversubscription), so the training tests pin it and restore it."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _params(K=3, d=2, noise=2, hidden=(8,), E=2, seed=0, dtype=torch.float64):
    ids = torch.arange(E, dtype=torch.int64)
    dp = mlp.init_mlp(mlp.MLPSpec((d, *hidden, K), "relu"), seed, ids, 101, dtype=dtype)
    gp = mlp.init_mlp(mlp.MLPSpec((noise + K, *hidden, d), "relu"), seed, ids, 102, dtype=dtype)
    return dp, gp


def _batch(K=3, d=2, E=2, B=6, Bu=5, seed=1, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(B).remainder(K).expand(E, B).contiguous()
    return {"x_lab": torch.randn(E, B, d, generator=g, dtype=dtype), "y_lab": y,
            "x_ul": torch.randn(E, Bu, d, generator=g, dtype=dtype),
            "fake": torch.randn(E, B, d, generator=g, dtype=dtype), "y_fake": y.clone()}


def _hyper(E=2, lam=1.0, gamma_ul=1.0, tau=0.5, dtype=torch.float64):
    return {"lam": torch.full((E,), lam, dtype=dtype), "gamma_ul": torch.full((E,), gamma_ul, dtype=dtype),
            "tau": torch.full((E,), tau, dtype=dtype), "has_ul": torch.ones(E, dtype=torch.bool)}


# ------------------------------------------------------------------------------------------ objectives, by hand
def _numpy_objective(dp, b, lam, gamma_ul, tau):
    """S + γ S^ul from THEORY.md §7 written out with numpy loops (an independent implementation)."""
    W = [p.detach().numpy() for p in dp]

    def act(x, e):
        h = x
        for l in range(len(W) // 2):
            h = h @ W[2 * l][e] + W[2 * l + 1][e]
            if l < len(W) // 2 - 1:
                h = np.maximum(h, 0)
        return h

    out = []
    for e in range(b["x_lab"].shape[0]):
        xl, yl, xu, f, yf = (b[k][e].numpy() for k in ("x_lab", "y_lab", "x_ul", "fake", "y_fake"))
        al, af, au = act(xl, e), act(f, e), act(xu, e)
        Lr = np.array([-(al[i, yl[i]] - logsumexp(al[i])) for i in range(len(yl))])
        Lf = np.array([-(af[j, yf[j]] - logsumexp(af[j])) for j in range(len(yf))])
        hinge = []
        for i in range(len(yl)):
            js = [j for j in range(len(yf)) if yf[j] == yl[i]]
            hinge.append(np.mean([max(0.0, tau * np.abs(xl[i] - f[j]).sum() + Lr[i] - Lf[j]) for j in js]))
        S = Lr.mean() + lam * np.mean(hinge)

        def Lul(a):
            return np.array([logsumexp(np.r_[0.0, r]) - r.max() for r in a])

        lu, lf = Lul(au), Lul(af)
        S_ul = np.mean([max(0.0, tau * np.abs(xu[i] - f[j]).sum() + lu[i] - lf[j]) for i in range(len(xu))
                        for j in range(len(f))])
        out.append(S + gamma_ul * S_ul)
    return np.array(out)


def test_loss_network_objective_equals_a_loop_implementation_of_theory_section_7():
    dp, _ = _params()
    b = _batch()
    total, parts = C.loss_network_objective(dp, b["x_lab"], b["y_lab"], b["x_ul"], b["fake"], b["y_fake"],
                                            _hyper(lam=2.0, gamma_ul=0.7))
    ref = _numpy_objective(dp, b, 2.0, 0.7, 0.5)
    np.testing.assert_allclose(total.numpy(), ref, rtol=1e-12, atol=1e-12)
    # lam = 0: the supervised objective E L(x, y) alone (the baseline)
    total0, _ = C.loss_network_objective(dp, b["x_lab"], b["y_lab"], b["x_ul"], b["fake"], b["y_fake"],
                                         _hyper(lam=0.0, gamma_ul=0.0))
    np.testing.assert_allclose(total0.numpy(), _numpy_objective(dp, b, 0.0, 0.0, 0.5), rtol=1e-12)
    assert not np.allclose(total0.numpy(), ref)  # power: the generator and unlabelled terms are not negligible here


def _grads(dp, b, hyper, what="total"):
    ps = tuple(p.detach().requires_grad_(True) for p in dp)
    total, parts = C.loss_network_objective(ps, b["x_lab"], b["y_lab"], b["x_ul"], b["fake"], b["y_fake"], hyper)
    val = total if what == "total" else parts[what]
    return torch.cat([g.reshape(-1) for g in torch.autograd.grad(val.sum(), ps)])


def test_unlabelled_term_changes_gradients_only_through_unlabelled_samples():
    # Mutation checked: swapping the labelled and unlabelled batches inside loss_network_objective (a_ul computed
    # from x_lab, or the S^ul margins from x_lab) makes the first two assertions fail.
    dp, _ = _params()
    b = _batch()
    b_lab = dict(b, x_lab=b["x_lab"] + 0.3)   # other labelled reals
    b_ul = dict(b, x_ul=b["x_ul"] + 0.3)      # other unlabelled reals
    h = _hyper(gamma_ul=1.0)
    g_ul = _grads(dp, b, h, "S_ul")
    assert torch.equal(g_ul, _grads(dp, b_lab, h, "S_ul"))        # S^ul does not see the labelled reals ...
    assert not torch.allclose(g_ul, _grads(dp, b_ul, h, "S_ul"))  # ... and does see the unlabelled ones
    # γ_ul = 0: the unlabelled reals do not move the loss network at all
    h0 = _hyper(gamma_ul=0.0)
    assert torch.equal(_grads(dp, b, h0), _grads(dp, b_ul, h0))
    # γ_ul > 0: they do (negative control for the line above)
    assert not torch.allclose(_grads(dp, b, h), _grads(dp, b_ul, h))
    # S (the labelled term) does not see the unlabelled reals, and does see the labelled ones
    assert torch.equal(_grads(dp, b, h, "S"), _grads(dp, b_ul, h, "S"))
    assert not torch.allclose(_grads(dp, b, h, "S"), _grads(dp, b_lab, h, "S"))


def test_unlabelled_term_is_off_for_a_model_without_unlabelled_pool():
    dp, _ = _params()
    b = _batch()
    h = _hyper(gamma_ul=1.0)
    h["has_ul"] = torch.tensor([True, False])
    _, parts = C.loss_network_objective(dp, b["x_lab"], b["y_lab"], b["x_ul"], b["fake"], b["y_fake"], h)
    assert parts["S_ul"][1] == 0 and parts["S_ul"][0] > 0


# ------------------------------------------------------------------------------------------ generator folding
def test_fold_label_reproduces_the_conditional_generator_for_each_label():
    # Mutation checked: folding row noise_dim + label + 1 (the neighbouring label) fails.
    _, gp = _params(K=3, d=1, noise=1, hidden=(16, 16), E=2)
    z = torch.linspace(-3, 3, 101, dtype=torch.float64).reshape(1, -1, 1).expand(2, -1, -1).contiguous()
    outs = []
    for label in range(3):
        y = torch.full((2, 101), label, dtype=torch.int64)
        ref = C.generator_forward(gp, z, y, 3)
        got = mlp.mlp_forward(C.fold_label(gp, 1, label), z)
        torch.testing.assert_close(got, ref, rtol=1e-13, atol=1e-13)
        outs.append(ref)
    assert not torch.allclose(outs[0], outs[1])  # the labels do change the generator


def test_exact_class_density_of_an_affine_conditional_generator_matches_the_closed_form_l1():
    # G(z, y) = mu_y + s z (one ReLU layer kept positive), so q̂(x | y) = N(mu_y, s); ∫|N(m, s) − N(mu, s)| =
    # 2 (2 Φ(|m − mu| / (2 s)) − 1).
    from lsgan_theory import densities
    from lsgan_theory.ensemble.pushforward import exact_density
    from lsgan_theory.studies.theorem1 import generator_metrics

    mus, s, shift = (-1.0, 0.5), 0.7, 50.0
    W0 = torch.tensor([[[1.0], [0.0], [0.0]]], dtype=torch.float64)          # z → hidden (one unit)
    W0[0, 1, 0], W0[0, 2, 0] = mus[0] / s, mus[1] / s                        # label rows: mu_y / s
    b0 = torch.tensor([[[shift]]], dtype=torch.float64)                      # keeps the unit active for |z| < 40
    W1 = torch.tensor([[[s]]], dtype=torch.float64)
    b1 = torch.tensor([[[-shift * s]]], dtype=torch.float64)
    gp = (W0, b0, W1, b1)
    for y, mu in enumerate(mus):
        q = exact_density(C.fold_label(gp, 1, y), "relu")
        m = generator_metrics(densities.Normal(0.0, s), q)
        expected = 2 * (2 * ndtr(abs(mu) / (2 * s)) - 1)
        assert abs(m.l1 - expected) <= 1e-6 + m.l1_abserr


# ------------------------------------------------------------------------------------------ labelled subsets
def test_labelled_split_is_stratified_reproducible_and_keyed_by_split():
    y = np.repeat(np.arange(4), [30, 40, 50, 7])
    m = C.labelled_split(y, 4, seed=0, split=3, labels_per_class=10)
    assert [int(m[y == c].sum()) for c in range(4)] == [10, 10, 10, 7]
    assert np.array_equal(m, C.labelled_split(y, 4, seed=0, split=3, labels_per_class=10))
    assert not np.array_equal(m, C.labelled_split(y, 4, seed=0, split=4, labels_per_class=10))
    f = C.labelled_split(y, 4, seed=0, split=3, labelled_fraction=0.1)
    assert [int(f[y == c].sum()) for c in range(4)] == [3, 4, 5, 1]
    assert C.labelled_split(y, 4, seed=0, split=0, labelled_fraction=1.0).all()


# ------------------------------------------------------------------------------------------ bad input
def test_bad_input_raises_errors_naming_the_argument():
    x = np.zeros((6, 1))
    with pytest.raises(ValueError, match=r"y: labels must lie in \[0, 1\].*got values in \[0, 2\]"):
        C.prepare_data(x, [0, 1, 2, 0, 1, 0], n_classes=2)
    with pytest.raises(ValueError, match=r"y: labels must lie.*\[-1, 1\]"):
        C.prepare_data(x, [0, 1, -1, 0, 1, 0], n_classes=2)
    with pytest.raises(ValueError, match=r"y: every class needs at least one example; classes \[2\]"):
        C.prepare_data(x, [0, 1, 1, 0, 1, 0], n_classes=3)
    for frac in (0.0, -0.1, 1.5, math.nan):
        with pytest.raises(ValueError, match=r"labelled_fraction: every value must lie in \(0, 1\]"):
            C.ConditionalConfig(n_classes=2, data_dim=1, labelled_fraction=frac)
        with pytest.raises(ValueError, match=r"labelled_fraction: must lie in \(0, 1\]"):
            C.labelled_split(np.array([0, 1]), 2, seed=0, split=0, labelled_fraction=frac)
    with pytest.raises(ValueError, match="n_classes: a conditional loss network needs K >= 2"):
        C.ConditionalConfig(n_classes=1, data_dim=1)
    with pytest.raises(ValueError, match="gamma_ul: every value must be a finite number >= 0"):
        C.ConditionalConfig(n_classes=2, data_dim=1, gamma_ul=-1.0)
    with pytest.raises(ValueError, match="lam: every value must be a finite number >= 0"):
        C.ConditionalConfig(n_classes=2, data_dim=1, lam=math.inf)
    with pytest.raises(ValueError, match="labels_per_class: every value must be an integer >= 0"):
        C.ConditionalConfig(n_classes=2, data_dim=1, labels_per_class=2.5)
    with pytest.raises(ValueError, match="lam: a per-model tuple needs n_models = 2 values, got 3"):
        C.ConditionalConfig(n_classes=2, data_dim=1, n_models=2, lam=(1.0, 2.0, 3.0))
    # a class count that does not match the networks / the data
    dp, gp = _params(K=3)
    with pytest.raises(ValueError, match="n_classes: the loss network has 3 outputs .* n_classes = 4"):
        C.check_networks(dp, n_classes=4)
    with pytest.raises(ValueError, match=r"n_classes: the generator takes 5 inputs but noise_dim \+ n_classes"):
        C.check_networks(g_params=gp, n_classes=4, noise_dim=2)
    data = C.prepare_data(np.arange(6.0), [0, 1, 2, 0, 1, 2], n_classes=3)
    with pytest.raises(ValueError, match="n_classes: the data set was prepared for 3 classes, the config has 2"):
        C.train_conditional(C.ConditionalConfig(n_classes=2, data_dim=1, steps=1), data)
    with pytest.raises(ValueError, match="data_dim: the config says 2"):
        C.train_conditional(C.ConditionalConfig(n_classes=3, data_dim=2, steps=1), data)
    with pytest.raises(ValueError, match=r"label: must be an integer in \[0, 2\]"):
        C.fold_label(gp, 2, 3)
    # the loss functions of the core refuse out-of-range labels too
    from lsgan_theory import losses

    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\]"):
        losses.conditional_loss_values(torch.zeros(4, 3), torch.tensor([0, 1, 2, 3]))


# ------------------------------------------------------------------------------------------ training
def _toy(n=2000, seed=0, shuffle=False):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.normal(2.0 * y - 1.0, 1.0)
    if shuffle:
        y = rng.permutation(y)
    return x, y


def _toy_config(**kw):
    base = dict(n_classes=2, data_dim=1, n_models=1, steps=250, batch=64, batch_ul=32, g_hidden=(16, 16),
                d_hidden=(16, 16), lr_d=2e-3, lr_g=2e-3, lam=1.0, record_every=25)
    base.update(kw)
    return C.ConditionalConfig(**base)


def test_argmin_loss_classifies_two_normals_above_chance_by_a_bayes_derived_margin():
    # N(−1, 1) vs N(1, 1) with equal priors: Bayes accuracy Φ(1) = 0.8413, chance 0.5.  Pass: test accuracy
    # >= 0.5 + (Φ(1) − 0.5)/2 = 0.671 (at least half of the learnable gain) and <= Φ(1) + 4·SE (nothing beats Bayes;
    # SE = sqrt(0.25/n_test) = 0.0079, binomial over the 4000 fresh test points).  Negative control: the same training
    # on shuffled labels must stay below the pass mark (it cannot learn the class boundary).
    bayes = float(ndtr(1.0))
    mark = 0.5 + (bayes - 0.5) / 2
    xt, yt = _toy(4000, seed=99)
    se = math.sqrt(0.25 / yt.size)
    res = C.train_conditional(_toy_config(), _toy())
    acc = float((res.classify(xt)[0] == yt).mean())
    assert mark <= acc <= bayes + 4 * se, acc
    ctrl = C.train_conditional(_toy_config(), _toy(shuffle=True))
    acc_c = float((ctrl.classify(xt)[0] == yt).mean())
    assert acc_c < mark, acc_c


def test_resume_from_checkpoint_is_bitwise_identical_and_refuses_another_config(tmp_path):
    # Mutation checked: not restoring the loss network's Adam state on resume makes the bitwise comparison fail.
    cfg = _toy_config(n_models=3, steps=24, lam=(1.0, 0.5, 0.0), gamma_ul=(0.0, 1.0, 0.0),
                      labelled_fraction=(1.0, 0.1, 0.1), record_every=4, dtype="float64")
    data = C.prepare_data(*_toy(400), n_classes=2)
    full = C.train_conditional(cfg, data)
    ck = tmp_path / "ck.pt"
    part = C.train_conditional(cfg, data, checkpoint=ck, checkpoint_every=5, stop_after=11)
    assert np.isnan(part.loss_d[:, -1]).all()  # really stopped early
    resumed = C.train_conditional(cfg, data, checkpoint=ck, checkpoint_every=5)
    for a, b in zip(full.d_params + full.g_params, resumed.d_params + resumed.g_params):
        assert torch.equal(a, b)
    assert np.array_equal(full.loss_d, resumed.loss_d) and np.array_equal(full.loss_g, resumed.loss_g)
    with pytest.raises(ValueError, match="checkpoint: .* different configuration"):
        C.train_conditional(_toy_config(n_models=3, steps=25), data, checkpoint=ck)
    other = C.prepare_data(*_toy(400, seed=5), n_classes=2)
    with pytest.raises(ValueError, match="checkpoint: .* different data set"):
        C.train_conditional(cfg, other, checkpoint=ck)


def test_diverging_model_is_frozen_and_the_others_are_untouched():
    # model 1 has an absurd learning rate and overflows; models 0 and 2 must equal their run without it
    cfg = _toy_config(n_models=3, steps=30, lr_d=(2e-3, 1e200, 2e-3), lr_g=(2e-3, 1e200, 2e-3), dtype="float64")
    data = C.prepare_data(*_toy(400), n_classes=2)
    res = C.train_conditional(cfg, data)
    assert res.diverged_step[1] >= 0 and (res.diverged_step[[0, 2]] == -1).all()
    assert all(torch.isfinite(p[1]).all() for p in res.d_params + res.g_params)  # frozen before the NaN
    alone = C.train_conditional(cfg.select([0, 2]), data)
    for a, b in zip(res.d_params + res.g_params, alone.d_params + alone.g_params):
        torch.testing.assert_close(a[[0, 2]], b, rtol=1e-9, atol=1e-12)
    assert np.isnan(res.loss_d[1, -1]) and np.isfinite(res.loss_d[[0, 2], -1]).all()


def test_sample_and_classify_shapes_and_class_count_checks():
    res = C.train_conditional(_toy_config(n_models=2, steps=3), _toy(200))
    assert res.sample(5).shape == (2, 2, 5, 1)
    assert res.classify(np.zeros((7, 1))).shape == (2, 7)
    with pytest.raises(ValueError, match="x: samples of width 1 expected"):
        res.activations(np.zeros((7, 2)))


def test_ctrl_c_mid_step_saves_through_the_shared_loop_and_resumes_bitwise(tmp_path, monkeypatch, python_sigint):
    # The CLS-GAN trainer runs on trainer.run_loop (the one loop): a real SIGINT inside a loss-network update of step
    # 7 is held until the step ends, the checkpoint then holds 8 completed steps (its "step" says 7), and the resumed
    # run equals an uninterrupted one bitwise.  Mutation caught: without the shared loop's Ctrl-C save the
    # interrupted run leaves no checkpoint (checkpoint_every = 100) and the load below fails.
    import os
    import signal

    cfg = _toy_config(n_models=2, steps=15, lam=(1.0, 0.5), gamma_ul=(0.0, 1.0), labelled_fraction=(1.0, 0.1),
                      record_every=3, dtype="float64")
    data = C.prepare_data(*_toy(400), n_classes=2)
    full = C.train_conditional(cfg, data)
    real = C.d_step
    calls = {"n": 0}

    def d_step(*args, **kw):
        calls["n"] += 1
        if calls["n"] == 8:  # n_critic = 1: the 8th loss-network update is step 7's
            os.kill(os.getpid(), signal.SIGINT)
        return real(*args, **kw)

    ck = tmp_path / "ck.pt"
    monkeypatch.setattr(C, "d_step", d_step)
    with pytest.raises(KeyboardInterrupt):
        C.train_conditional(cfg, data, checkpoint=ck, checkpoint_every=100)
    monkeypatch.setattr(C, "d_step", real)
    assert torch.load(ck, weights_only=True)["step"] == 7
    resumed = C.train_conditional(cfg, data, checkpoint=ck)
    for a, b in zip(full.d_params + full.g_params, resumed.d_params + resumed.g_params):
        assert torch.equal(a, b)
    assert np.array_equal(full.loss_d, resumed.loss_d) and np.array_equal(full.loss_g, resumed.loss_g)
