"""``update = "simultaneous"`` (Mao's scheme) and ``init = "orthogonal"`` (Mao's initialiser), checked against a
hand-written plain-torch step and against the definition of an orthogonal matrix (issue 32)."""

import math

import numpy as np
import pytest
import torch

from lsgan_theory import densities
from lsgan_theory.ensemble import TrainConfig, train
from lsgan_theory.ensemble import mlp as M
from lsgan_theory.ensemble import rng

B, K = 8, 3
BASE = dict(target="ring(8,1,0.01)", steps=1, batch=B, n_data=0, noise_dim=K, g_hidden=(5,), d_hidden=(4,),
            activation="tanh", optimizer="sgd", lr_d=0.1, lr_g=0.2, family="least_squares", ls_a=0.0, ls_b=1.0,
            ls_c=1.0, dtype="float64", seed=3)


def _mlp(params, x):
    n = len(params) // 2
    for l in range(n):
        x = x @ params[2 * l][0] + params[2 * l + 1][0]
        if l < n - 1:
            x = torch.tanh(x)
    return x


def _one_step(update: str):
    """The engine's parameters before and after one step, and the step's real batch and noise."""
    seen = {}

    def observe(obs):
        seen[obs.step] = ([p.clone() for p in obs.state.d_params], [p.clone() for p in obs.state.g_params])
        if obs.step == 1:
            seen["x"] = obs.real_batch()[0].clone()
        return None

    cfg = TrainConfig(**BASE, update=update)
    train(cfg, observe=observe, observe_at=[0, 1])
    mid = cfg.ids()[0]
    z = rng.step_normal(cfg.seed, [mid], rng.STREAMS["noise_d"], 0, (B, K), dtype=torch.float64,
                        generator=torch.Generator())[0]
    return seen, z, cfg


def _hand_step(d0, g0, x, z_d, z_g, lr_d, lr_g):
    """Plain torch, written from the definitions: LS losses ½E(D(x) − 1)² + ½E D(G(z))² (Mao's (0, 1, 1)) and
    ½E(D(G(z)) − 1)²; SGD on D, then SGD on G against the D given (the caller chooses old or new D)."""
    d = [p.detach().clone().requires_grad_(True) for p in d0]
    g = [p.detach().clone().requires_grad_(True) for p in g0]
    fake = _mlp(g, z_d).detach()
    ld = 0.5 * ((_mlp(d, x) - 1) ** 2).mean() + 0.5 * (_mlp(d, fake) ** 2).mean()
    gd = torch.autograd.grad(ld, d)
    d1 = [p - lr_d * q for p, q in zip(d, gd)]
    return [p.detach() for p in d1], g, z_g


def test_simultaneous_step_equals_both_gradients_at_the_same_point():
    seen, z, cfg = _one_step("simultaneous")
    (d0, g0), (d1, g1) = seen[0], seen[1]
    x = seen["x"]
    d_hand, g, _ = _hand_step(d0, g0, x, z, z, cfg.lr_d, cfg.lr_g)
    # G's gradient at the OLD D and the same noise batch z
    lg = 0.5 * ((_mlp([p.detach() for p in d0], _mlp(g, z)) - 1) ** 2).mean()
    g_hand = [p - cfg.lr_g * q for p, q in zip(g, torch.autograd.grad(lg, g))]
    for a, b in zip(d1, d_hand):
        torch.testing.assert_close(a[0], b[0] if b.dim() == 3 else b, rtol=1e-12, atol=1e-12)
    for a, b in zip(g1, g_hand):
        torch.testing.assert_close(a[0], b[0].detach(), rtol=1e-12, atol=1e-12)
    # negative control: G's update against the NEW D (the alternating scheme's point) differs by far more
    lg_new = 0.5 * ((_mlp(d_hand, _mlp(g, z)) - 1) ** 2).mean()
    g_new = [p - cfg.lr_g * q for p, q in zip(g, torch.autograd.grad(lg_new, g))]
    gap = max(float((a[0] - b[0]).detach().abs().max()) for a, b in zip(g1, g_new))
    assert gap > 1e-6


def test_alternating_differs_from_simultaneous_and_uses_the_new_discriminator():
    seen_s, _, _ = _one_step("simultaneous")
    seen_a, z, cfg = _one_step("alternating")
    torch.testing.assert_close(seen_s[1][0][0], seen_a[1][0][0], rtol=0, atol=0)  # same D update
    assert max(float((a - b).abs().max()) for a, b in zip(seen_s[1][1], seen_a[1][1])) > 1e-6
    (d0, g0), (d1, g1) = seen_a[0], seen_a[1]
    z_g = rng.step_normal(cfg.seed, [cfg.ids()[0]], rng.STREAMS["noise_g"], 0, (B, K), dtype=torch.float64,
                          generator=torch.Generator())[0]
    g = [p.detach().clone().requires_grad_(True) for p in g0]
    lg = 0.5 * ((_mlp(d1, _mlp(g, z_g)) - 1) ** 2).mean()
    g_hand = [p - cfg.lr_g * q for p, q in zip(g, torch.autograd.grad(lg, g))]
    for a, b in zip(g1, g_hand):
        torch.testing.assert_close(a[0], b[0].detach(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("family, extra", [("gan_ns", {}), ("wgan", {"gp_weight": 10.0}),
                                           ("loss_sensitive", {}), ("hinge", {})])
def test_simultaneous_trains_every_family_and_resumes_bitwise(tmp_path, family, extra):
    cfg = TrainConfig(**{**BASE, "family": family, "ls_a": -1.0, "ls_b": 1.0, "ls_c": 0.0, "steps": 6,
                         "optimizer": "adam", "n_models": 2, **extra}, update="simultaneous")
    whole = train(cfg)
    assert np.isfinite(whole.loss_d).all() and np.isfinite(whole.loss_g).all()
    ck = tmp_path / "ck.pt"
    hit = []

    def stop_once(obs):
        if obs.step == 3 and not hit:
            hit.append(1)
            raise KeyboardInterrupt  # Ctrl-C after step 3: the completed steps are saved
        return None

    with pytest.raises(KeyboardInterrupt):
        train(cfg, checkpoint=ck, observe=stop_once, observe_at=[3])
    resumed = train(cfg, checkpoint=ck)  # continues from step 3
    for a, b in zip(whole.g_params + whole.d_params, resumed.g_params + resumed.d_params):
        assert torch.equal(a, b)


def test_simultaneous_is_refused_where_it_has_no_meaning():
    with pytest.raises(ValueError, match="update: 'simultaneous'.*n_critic = 1"):
        TrainConfig(**BASE, update="simultaneous", n_critic=2)
    with pytest.raises(ValueError, match="update: must be one of 'alternating', 'simultaneous'"):
        TrainConfig(**BASE, update="together")


def test_orthogonal_init_is_orthogonal_with_the_gain_and_zero_bias():
    spec = M.NetSpec((6, 4, 9), "tanh")
    p = M.init_net(spec, 0, torch.tensor([1, 2]), 1, init="orthogonal", init_gain=1.4, dtype=torch.float64)
    W0, b0, W1, b1 = p
    I4 = torch.eye(4, dtype=torch.float64).expand(2, 4, 4)
    torch.testing.assert_close(W0.transpose(1, 2) @ W0 / 1.4**2, I4)   # tall: orthonormal columns
    torch.testing.assert_close(W1 @ W1.transpose(1, 2) / 1.4**2, I4)   # wide: orthonormal rows
    assert not b0.any() and not b1.any()
    assert not torch.equal(W0[0], W0[1])  # each model its own draw
    # Haar: with the sign convention the distribution is rotation-invariant -- the mean of a diagonal entry is 0
    q = M.orthogonal(torch.randn(4000, 3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0)))
    d = q.diagonal(dim1=1, dim2=2).flatten()
    assert abs(float(d.mean())) < 4 * float(d.std()) / math.sqrt(d.numel())
    # negative control: without the sign fix (raw QR of LAPACK) the diagonal of R is negative for Householder QR
    # and Q's diagonal is biased; the fixed version is not
    raw, _ = torch.linalg.qr(torch.randn(4000, 3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0)))
    assert abs(float(raw.diagonal(dim1=1, dim2=2).mean())) > 10 * float(d.std()) / math.sqrt(d.numel())


def test_init_gain_is_refused_without_orthogonal():
    with pytest.raises(ValueError, match="init_gain: used only with init = 'orthogonal'"):
        TrainConfig(**BASE, init_gain=1.4)
    with pytest.raises(ValueError, match="init_gain"):
        TrainConfig(**BASE, init="orthogonal", init_gain=0.0)
    TrainConfig(**BASE, init="orthogonal", init_gain=1.4)


# ---------------------------------------------------------------------------------------------------- the [mao] variant
from pathlib import Path  # noqa: E402

from lsgan_theory.studies.modes import ModesSpecError, ensemble_runs, load_modes_spec, parse_modes_spec  # noqa: E402

MAO = Path(__file__).resolve().parents[1] / "experiments" / "mode_collapse" / "mao_ring.toml"


def test_mao_variant_is_maos_set_up_with_both_update_schemes():
    spec = load_modes_spec(MAO, "mao")
    assert [s for s in spec.settings()] == [{"update": "simultaneous"}, {"update": "alternating"}]
    assert (spec.steps, spec.train["batch"], spec.train["noise_dim"], spec.seeds) == (35000, 512, 256, 3)
    assert (spec.train["init"], spec.train["init_gain"], spec.train["n_data"]) == ("orthogonal", 1.4, 0)
    assert spec.eval_steps()[:3] == (0, 2500, 5000) and spec.eval_steps()[-1] == 35000
    # the other variants keep no grid: their settings, and so their model ids, are those of earlier runs
    assert load_modes_spec(MAO, "hour").settings() == [{}]


def test_restrict_keeps_the_model_ids_and_refuses_what_the_grid_lacks():
    spec = load_modes_spec(MAO, "mao")
    alt = spec.restrict(["update=alternating"])
    assert alt.settings() == [{"update": "alternating"}]
    assert ensemble_runs(alt, alt.settings()[0]) == ensemble_runs(spec, spec.settings()[1])
    assert ensemble_runs(spec, spec.settings()[0]) != ensemble_runs(spec, spec.settings()[1])  # control
    with pytest.raises(ValueError, match="update takes simultaneous, alternating"):
        spec.restrict(["update=both"])
    with pytest.raises(ValueError, match="KEY a grid key"):
        spec.restrict(["pack=2"])
    with pytest.raises(ValueError, match="no grid"):
        load_modes_spec(MAO, "hour").restrict(["update=alternating"])


def test_variant_tables_are_checked():
    text = MAO.read_text()
    with pytest.raises(ModesSpecError, match=r"\[mao.grid\] update = 'x': a non-empty list"):
        parse_modes_spec(text.replace('update = ["simultaneous", "alternating"]', 'update = "x"'), "f", "mao")
    with pytest.raises(ModesSpecError, match="not a training field"):
        parse_modes_spec(text.replace('update = ["simultaneous", "alternating"]', 'speed = [1]'), "f", "mao")
    with pytest.raises(ModesSpecError, match=r"update: must be one of"):
        parse_modes_spec(text.replace('"alternating"]', '"together"]'), "f", "mao")
    bare = text[:text.index("[mao]")]
    with pytest.raises(ModesSpecError, match=r"no \[mao\] table"):
        parse_modes_spec(bare, "f", "mao")


# ---------------------------------------------------------------------------------------------------- memory layout
def test_every_initialiser_returns_row_major_parameters():
    # LAPACK's QR factors come back column-major, so the orthogonal initialiser must make its weights row-major
    for spec in (M.NetSpec((2, 16, 16, 1), "tanh"), M.NetSpec((32, 16, 16, 2), "tanh")):
        for init in M.INITS:
            extra = {"init_gain": 1.4} if init == "orthogonal" else {}
            params = M.init_net(spec, 0, torch.tensor([3, 4]), 1, init=init, **extra)
            assert all(p.is_contiguous() for p in params), init


def test_in_place_adam_refuses_a_non_contiguous_parameter_and_takes_any_gradient_layout():
    from lsgan_theory.ensemble import optim

    gen = torch.Generator().manual_seed(0)
    W = torch.randn(2, 5, 3, dtype=torch.float64, generator=gen)
    G = torch.randn(2, 5, 3, dtype=torch.float64, generator=gen)
    opt = optim.adam(1e-2, 0.5, 0.999)
    # a gradient in column-major layout gives the same step as the same gradient row-major, and torch.optim.Adam's
    p1 = W.clone()
    s1 = opt.init((p1,))
    opt.update_((G.transpose(1, 2).contiguous().transpose(1, 2),), s1, (p1,), [0, 1])
    ref = W.clone().requires_grad_(True)
    ta = torch.optim.Adam([ref], lr=1e-2, betas=(0.5, 0.999))
    ref.grad = G.clone()
    ta.step()
    torch.testing.assert_close(p1, ref.detach(), rtol=1e-12, atol=1e-12)
    # a column-major parameter is refused by name instead of being updated at the wrong entries
    p2 = W.transpose(1, 2).contiguous().transpose(1, 2)
    assert not p2.is_contiguous()
    with pytest.raises(ValueError, match="params: Adam's in-place update needs contiguous tensors"):
        opt.update_((G,), opt.init((p2,)), (p2,), [0, 1])


def test_orthogonal_training_moves_every_layer_like_plain_torch_adam():
    # one Adam step of the engine with Mao's initialiser against torch.optim.Adam on the same start and gradients:
    # before the layout fix the column-major layers received other entries' updates
    cfg = TrainConfig(**{**BASE, "optimizer": "adam", "init": "orthogonal", "init_gain": 1.4, "family": "gan_ns",
                         "ls_a": -1.0, "ls_b": 1.0, "ls_c": 0.0, "d_hidden": (6, 5), "g_hidden": (5, 4)},
                      update="simultaneous")
    seen = {}

    def observe(obs):
        seen[obs.step] = ([p.clone() for p in obs.state.d_params], [p.clone() for p in obs.state.g_params])
        if obs.step == 1:
            seen["x"] = obs.real_batch()[0].clone()
        return None

    train(cfg, observe=observe, observe_at=[0, 1])
    z = rng.step_normal(cfg.seed, [cfg.ids()[0]], rng.STREAMS["noise_d"], 0, (B, K), dtype=torch.float64,
                        generator=torch.Generator())[0]
    d = [p.clone().requires_grad_(True) for p in seen[0][0]]  # (1, ...): model 0, as _mlp reads them
    g = [p.clone().requires_grad_(True) for p in seen[0][1]]
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    fake = _mlp(g, z)
    ld = bce(_mlp(d, seen["x"]), torch.ones(B, 1)) + bce(_mlp(d, fake.detach()), torch.zeros(B, 1))
    lg = bce(_mlp([p.detach() for p in d], fake), torch.ones(B, 1))
    gd, gg = torch.autograd.grad(ld, d), torch.autograd.grad(lg, g)
    for ps, gs, lr, new in ((d, gd, cfg.lr_d, seen[1][0]), (g, gg, cfg.lr_g, seen[1][1])):
        ref = [p.detach().clone().requires_grad_(True) for p in ps]
        a = torch.optim.Adam(ref, lr=lr, betas=(cfg.beta1, cfg.beta2))
        for r, q in zip(ref, gs):
            r.grad = q.clone()
        a.step()
        for r, q in zip(ref, new):
            torch.testing.assert_close(q, r.detach(), rtol=1e-9, atol=1e-12)


def test_restrict_losses_keeps_each_models_id_and_refuses_a_loss_the_file_lacks(tmp_path, capsys):
    # `modes --losses` (the alternating Mao-size run trained 4 of the 8 losses on one core): each kept model has the
    # id, and so the streams, it has in the whole run; a loss not in the file is one line, exit 2, before any work
    spec = load_modes_spec(MAO, "mao").restrict(["update=alternating"])
    sub = spec.restrict_losses(["ls_m110", "gan"])
    assert sub.losses == ("gan", "ls_m110")  # the file's order
    whole = {(r["loss"], r["replica"]): r["model_id"] for r in ensemble_runs(spec, spec.settings()[0])}
    part = ensemble_runs(sub, sub.settings()[0])
    assert len(part) == 6 and all(whole[(r["loss"], r["replica"])] == r["model_id"] for r in part)
    with pytest.raises(ValueError, match=r"--losses: 'hinge': expected one or more of the losses of .*\[quick\]"):
        load_modes_spec(MAO, "quick").restrict_losses(["hinge"], argument="--losses")
    from lsgan_theory.cli import main

    rc = main(["modes", str(MAO), "--variant", "quick", "--losses", "nope", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "--losses: 'nope'" in err and not (tmp_path / "o").exists()


def test_the_committed_scheme_comparison_is_what_its_script_writes_from_the_committed_runs(tmp_path, monkeypatch):
    # experiments/mode_collapse/mao_ring_mao_alternating/schemes.md is generated, never edited: regenerate it from the
    # two committed metrics.csv into a temporary folder and compare; the Welch interval against a hand computation
    import importlib.util
    import shutil

    here = MAO.parent
    spec = importlib.util.spec_from_file_location("compare_update_schemes", here / "compare_update_schemes.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    d, lo, hi, p = mod.welch(np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 7.0]), 0.95)
    # means 2 and 16/3, variances 1 and 7/3: se = sqrt(10/9), Welch df = (10/9)² / ((1/3)²/2 + (7/9)²/2) = 3.448
    se, df = math.sqrt(10 / 9), (10 / 9) ** 2 / ((1 / 3) ** 2 / 2 + (7 / 9) ** 2 / 2)
    from scipy import stats

    q = stats.t.ppf(0.975, df)
    assert d == pytest.approx(10 / 3) and (lo, hi) == pytest.approx((10 / 3 - q * se, 10 / 3 + q * se), rel=1e-9)
    assert mod.welch(np.zeros(3), np.zeros(3), 0.95)[3] == 1.0  # no spread: nothing to scale by
    alt = tmp_path / "alt"
    alt.mkdir()
    shutil.copy(mod.ALT / "metrics.csv", alt / "metrics.csv")
    monkeypatch.setattr(mod, "ALT", alt)
    mod.main()
    assert (alt / "schemes.md").read_text() == (here / "mao_ring_mao_alternating" / "schemes.md").read_text()


def test_the_committed_packing_comparisons_are_what_their_script_writes_from_the_committed_runs(tmp_path, monkeypatch):
    import importlib.util
    import shutil
    import sys

    here = MAO.parent
    monkeypatch.syspath_prepend(str(here))
    spec = importlib.util.spec_from_file_location("compare_packing", here / "compare_packing.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    committed = [name for name in mod.RUNS if (here / name / "metrics.csv").is_file()]
    assert committed == list(mod.RUNS)  # the grid's and the ring's runs are both committed and both checked
    for name in committed:
        (tmp_path / name).mkdir()
        shutil.copy(here / name / "metrics.csv", tmp_path / name / "metrics.csv")
    monkeypatch.setattr(mod, "HERE", tmp_path)
    mod.main()
    for name in committed:
        assert (tmp_path / name / "packing.md").read_text() == (here / name / "packing.md").read_text()
    assert "compare_update_schemes" in sys.modules  # it reuses that script's comparison, tested above
    with pytest.raises(SystemExit, match="run must be one of pacgan_packing, pacgan_ring_packing, got 'grid'"):
        mod.main(["grid"])
