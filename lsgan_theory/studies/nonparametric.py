"""Studies of the non-parametric LS-GAN (Loss-Sensitive GAN, THEORY.md §5): allocation on demand, the saturated
sigmoid discriminator used as a baseline, and the generalisation study.  Functions return data; the claims in
``lsgan_theory._claims.nonparametric`` turn them into verdicts and ``lsgan_theory.plots`` draws them."""

from __future__ import annotations

import numpy as np

from .. import densities
from .. import nonparametric as npm

__all__ = ["allocation_on_demand", "train_sigmoid_discriminator", "fit_slope", "generalisation_study"]


def allocation_on_demand(real, fake, lam, kappa, margin="l1", rng=None, n_boot=1000):
    """Per generated point: active-pair fraction and distance to the data; Spearman ρ with a bootstrap 95 % CI."""
    from scipy.stats import spearmanr

    sol = npm.solve(real, fake, lam, kappa, margin)
    frac = sol.active_fraction()
    dist = npm.nearest_distance(fake, real, margin)
    rho = float(spearmanr(dist, frac).statistic)
    rng = np.random.default_rng(0) if rng is None else rng
    boots = []
    for _ in range(n_boot):
        k = rng.integers(0, len(frac), len(frac))
        r = spearmanr(dist[k], frac[k]).statistic
        if np.isfinite(r):
            boots.append(r)
    ci = (float(np.quantile(boots, 0.025)), float(np.quantile(boots, 0.975)))
    return dist, frac, rho, ci


def train_sigmoid_discriminator(real, fake, steps=3000, seed=0, hidden=32, lr=1e-2):
    """Train a 1-D sigmoid discriminator (BCE, Adam) on fixed samples until it saturates; return a function giving
    D(x) and the saturating generator gradient d/dx log(1 − D(x)) on a grid."""
    import torch

    g = torch.Generator().manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(1, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, hidden),
                              torch.nn.Tanh(), torch.nn.Linear(hidden, 1)).double()
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype) * 0.5)
    xr = torch.as_tensor(np.asarray(real), dtype=torch.float64)[:, None]
    xf = torch.as_tensor(np.asarray(fake), dtype=torch.float64)[:, None]
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    for _ in range(steps):
        opt.zero_grad()
        loss = bce(net(xr), torch.ones_like(xr)) + bce(net(xf), torch.zeros_like(xf))
        loss.backward()
        opt.step()

    def evaluate(x):
        xt = torch.as_tensor(np.asarray(x), dtype=torch.float64)[:, None].requires_grad_(True)
        a = net(xt)
        gen = torch.nn.functional.logsigmoid(-a).sum()  # Σ log(1 − D(x)), D = σ(a)
        (grad,) = torch.autograd.grad(gen, xt)
        return torch.sigmoid(a).detach().numpy()[:, 0], grad.numpy()[:, 0]

    return evaluate


def fit_slope(ns, gaps, rng, n_boot=2000):
    """Least-squares slope of log(mean gap) on log n, with a bootstrap 95 % CI over seeds (columns of ``gaps``)."""
    ln = np.log(np.asarray(ns, float))
    slope = float(np.polyfit(ln, np.log(gaps.mean(1)), 1)[0])
    bs = []
    for _ in range(n_boot):
        k = rng.integers(0, gaps.shape[1], gaps.shape[1])
        bs.append(np.polyfit(ln, np.log(gaps[:, k].mean(1)), 1)[0])
    return slope, (float(np.quantile(bs, 0.025)), float(np.quantile(bs, 0.975)))


def generalisation_study(quick: bool = False, seed: int = 0, dims=(1, 2, 3), *, lam: float = 1.0, kappa: float = 2.0) -> dict:
    """Gap |S*_{n,n} − S*| vs n for d = 1 (Beta(2,3) vs Beta(3,2), L1), d = 2 (N(0, I) vs N((1,0), I), L2) and
    d = 3 (N(0, I) vs N((1,0,0), I), L2)."""
    rng = np.random.default_rng([seed, 57])
    cfg = {
        "d=1": (densities.Beta(2, 3), densities.Beta(3, 2), "l1", [16, 32, 64, 128] if quick else [16, 32, 64, 128, 256],
                4 if quick else 12, 100 if quick else 300),
        "d=2": (densities.Normal2D(loc=(0, 0), scale=1), densities.Normal2D(loc=(1, 0), scale=1), "l2",
                [8, 16, 32, 64] if quick else [8, 16, 32, 64, 128], 4 if quick else 12, 14 if quick else 22),
        "d=3": (densities.IsotropicNormal((0, 0, 0)), densities.IsotropicNormal((1, 0, 0)), "l2",
                [8, 16, 32] if quick else [8, 16, 32, 64, 128, 256], 4 if quick else 12, 6 if quick else 10),
    }
    cfg = {k: v for k, v in cfg.items() if int(k[2:]) in dims}
    res = {}
    for label, (P, Q, margin, ns, seeds, grid) in cfg.items():
        r = npm.generalisation_gaps(P, Q, lam, kappa, ns, seeds, margin=margin, grid=grid, seed=seed)
        slope, ci = fit_slope(ns, r["gaps"], rng)
        g = r["gaps"]
        se = g.std(1, ddof=1) / np.sqrt(g.shape[1])
        res[label] = {"n": ns, "mean": g.mean(1), "lo": g.mean(1) - 1.96 * se, "hi": g.mean(1) + 1.96 * se,
                      "slope": slope, "slope_ci": ci, "population": r["population"],
                      "population_error": r["population_error"], "seconds": r["seconds"], "spec": f"{P.spec} vs {Q.spec}",
                      "margin": margin, "seeds": seeds, "grid": grid}
    return res
