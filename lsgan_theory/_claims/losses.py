"""Claims of the loss zoo (THEORY.md §2, §4, §5, §6), checked on concrete numbers in a few seconds each.

Float64 throughout; "equal" means within 1e-10 (two float64 evaluations of the same sum over < 1000 O(1) terms in
different orders differ by < 1e-12), and a negative control must differ by far more (> 1e-4).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .. import losses as L
from ..claims import Check, Context, Evidence, claim

_DT = torch.float64
_EQ = 1e-10  # equality tolerance (see module docstring)
_CONTROL = 1e-4  # a negative control must differ by more than this
_EQ_BASIS = "numerical: float64 sums of < 1000 O(1) terms in different orders differ by < 1e-12; allowance 1e-10"


def _mlp(seed: int, d: int = 2, h: int = 16):
    g = torch.Generator().manual_seed(seed)
    W1 = torch.randn(h, d, generator=g, dtype=_DT).requires_grad_(True)
    b1 = torch.randn(h, generator=g, dtype=_DT).requires_grad_(True)
    w2 = (torch.randn(h, generator=g, dtype=_DT) / math.sqrt(h)).requires_grad_(True)
    return (lambda x: torch.tanh(x @ W1.T + b1) @ w2), [W1, b1, w2]


def _maxdiff(g1, g2) -> float:
    return max((a - b).abs().max().item() for a, b in zip(g1, g2))


@claim("losses-glsgan-reductions", kind="numerical", ref="THEORY.md §6",
       statement="GLS-GAN with C_ν = max(a, νa): ν = 0 is the LS-GAN hinge term, ν = 1 has the WGAN critic's "
                 "θ-gradients for f = -L (value E Δ + E L(x) - E L(z)), ν = -1 is E|·|; ν = 0.5 is none of them")
def _glsgan_reductions(ctx: Context) -> Evidence:
    rows, ok, stat, alt = [], True, 0.0, np.inf
    for seed in range(3):
        f, params = _mlp(seed)
        g = torch.Generator().manual_seed(1000 + seed)
        xr, xf = torch.randn(32, 2, generator=g, dtype=_DT), torch.randn(24, 2, generator=g, dtype=_DT) * 1.5 + 0.5
        margin = L.margin_matrix(xr, xf, margin_kind="l1", tau=0.2)
        lr, lf = f(xr), f(xf)
        arg = margin + lr[:, None] - lf[None, :]

        def val_grad(t):
            return t.item(), torch.autograd.grad(t, params, retain_graph=True)

        gls = {nu: val_grad(L.glsgan_objective(lr, lf, margin, nu)) for nu in (0.0, 1.0, -1.0, 0.5)}
        refs = {0.0: val_grad(L.loss_sensitive_hinge(lr, lf, margin)),
                1.0: val_grad(margin.mean() + L.wgan_critic_loss(-lr, -lf)),
                -1.0: val_grad(arg.abs().mean())}
        errs = {nu: max(abs(gls[nu][0] - refs[nu][0]), _maxdiff(gls[nu][1], refs[nu][1])) for nu in refs}
        control = min(abs(gls[0.5][0] - refs[nu][0]) for nu in refs)
        frac = (arg > 0).double().mean().item()
        ok &= max(errs.values()) < _EQ and control > _CONTROL
        stat, alt = max(stat, max(errs.values())), min(alt, control)
        rows.append(f"| {seed} | {frac:.3f} | {errs[0.0]:.1e} | {errs[1.0]:.1e} | {errs[-1.0]:.1e} | {control:.3e} |")
    ev = ("Random tanh MLP L (2→16→1, float64), 32 real / 24 generated 2-D samples, all 768 pairs, margin "
          "0.2‖x − z‖₁. Errors are the max over the value and every parameter-gradient entry; the control column is "
          "the smallest |value(ν = 0.5) − value(reduction)|.\n\n"
          "| seed | active pairs | err ν=0 vs hinge | err ν=1 vs E Δ + WGAN(f=−L) | err ν=−1 vs E|·| "
          "| ν=0.5 control |\n"
          "|---|---|---|---|---|---|\n" + "\n".join(rows) +
          f"\n\nPass: every error < {_EQ:g} and every control > {_CONTROL:g}.")
    chk = Check("max |GLS(ν) − reduction| over value and gradients", stat, _EQ, _EQ_BASIS,
                "ν = 0.5 against each reduction (smallest value difference)", alt)
    return Evidence(ev, data={"rows": rows}, checks=[chk])


@claim("losses-glsgan-cost-admissible", kind="numerical", ref="THEORY.md §6",
       statement="C_ν(a) ≥ a for all a and C_ν(a) = a for a ≥ 0 for every ν ≤ 1; ν > 1 is rejected")
def _glsgan_cost(ctx: Context) -> Evidence:
    a = torch.linspace(-50, 50, 100_001, dtype=_DT)
    rows, ok, stat, slacks, poss = [], True, 0.0, [], []
    for nu in (-10.0, -1.0, 0.0, 0.5, 1.0):
        c = L.glsgan_cost(a, nu)
        slack = (c - a).min().item()
        pos = (c[a >= 0] - a[a >= 0]).abs().max().item()
        ok &= slack >= 0 and pos == 0
        stat = max(stat, max(-slack, 0.0), pos)
        slacks.append(slack)
        poss.append(pos)
        rows.append(f"| {nu:g} | {slack:.3g} | {pos:.3g} |")
    rejected = []
    for bad in (1.0 + 1e-12, 1.5, 2.0):
        try:
            L.glsgan_cost(a[:3], bad)
            rejected.append(f"ν = {bad!r}: accepted (wrong)")
            ok = False
        except ValueError as exc:
            rejected.append(f"ν = {bad!r}: ValueError: {exc}")
    ev = ("On 100 001 points a ∈ [−50, 50]:\n\n| ν | min (C_ν(a) − a) | max over a ≥ 0 of |C_ν(a) − a| |\n"
          "|---|---|---|\n"
          + "\n".join(rows) + "\n\n" + "\n".join(f"- {r}" for r in rejected))
    alt = (torch.maximum(a, 2.0 * a)[a >= 0] - a[a >= 0]).abs().max().item()  # ν = 2, written out (rejected above)
    chk = Check("max(0, −min(C_ν(a) − a), max_{a≥0} |C_ν(a) − a|) over ν ≤ 1", stat, 0.0,
                "exact: max/min of float64 numbers, no rounding", "ν = 2 (max(a, 2a)): max_{a≥0} |C(a) − a|", alt,
                shown=f"min (C_ν(a) − a) = {min(slacks):.3g} ≥ 0 and max_(a≥0) |C_ν(a) − a| = {max(poss):.3g} "
                      f"over ν ≤ 1 (ν = 2: {alt:.3g})")
    return Evidence(ev, checks=[chk], passed=None if ok else False)


def _lipschitz_l1_net(seed: int, lip: float, d: int = 3, h: int = 16):
    """tanh MLP with Lipschitz constant <= lip w.r.t. ‖·‖₁: max|W1| · ‖w2‖₁ = lip."""
    g = torch.Generator().manual_seed(seed)
    W1, b1, w2 = (torch.randn(h, d, generator=g, dtype=_DT), torch.randn(h, generator=g, dtype=_DT),
                  torch.randn(h, generator=g, dtype=_DT))
    w2 = w2 * lip / (W1.abs().max() * w2.abs().sum())
    return lambda x: torch.tanh(x @ W1.T + b1) @ w2


@claim("losses-hinge-inactivity", kind="numerical", ref="THEORY.md §5",
       statement="If L is κ-Lipschitz w.r.t. the margin's distance with κ ≤ 1, the LS-GAN hinge never clips and S "
                 "equals its linear form E L(x) + λ(E Δ + E L(x) − E L(z))")
def _hinge_inactivity(ctx: Context) -> Evidence:
    tau, lam = 0.5, 4.0
    g = torch.Generator().manual_seed(ctx.seed)
    xr, xf = torch.randn(64, 3, generator=g, dtype=_DT), torch.randn(48, 3, generator=g, dtype=_DT) + 0.7
    margin = L.margin_matrix(xr, xf, margin_kind="l1", tau=tau)
    rows, ok, stat, alt = [], True, 0.0, np.inf
    for kappa, steep in ((0.5, False), (1.0, False), (1.0, True), (3.0, True)):
        if steep:  # L(x) = κτ s·x attains slope κτ along ±s in the L1 norm: the worst case
            s = torch.tensor([1.0, -1.0, 1.0], dtype=_DT)
            f = lambda x, k=kappa: k * tau * (x @ s)  # noqa: E731
        else:
            f = _lipschitz_l1_net(ctx.seed, kappa * tau)
        lr, lf = f(xr), f(xf)
        frac = L.hinge_active_fraction(lr, lf, margin).item()
        amin = (margin + lr[:, None] - lf[None, :]).min().item()
        gap = (L.loss_sensitive_objective(lr, lf, margin, lam)
               - (lr.mean() + lam * (margin.mean() + lr.mean() - lf.mean()))).item()
        expect_inactive = kappa <= 1
        # κ ≤ 1: every hinge argument is >= 0 up to rounding (the worst case κ = 1 reaches exactly 0)
        ok &= (amin >= -1e-12 and abs(gap) < _EQ) if expect_inactive else (amin < 0 and gap > _CONTROL)
        if expect_inactive:
            stat = max(stat, max(-amin - 1e-12, 0.0), abs(gap))
        else:
            alt = min(alt, abs(gap))
        kind = "linear s·x (worst case)" if steep else "tanh MLP"
        rows.append(f"| {kappa:g} | {kind} | {amin:.3e} | {frac:.4f} | {gap:.3e} |")
    ev = (f"64 real, 48 generated 3-D samples, all pairs, Δ = {tau}‖x − z‖₁, λ = {lam}; L scaled so that its L1 "
          "Lipschitz constant is κτ.\n\n| κ | L | min (Δ + L(x) − L(z)) | fraction > 0 | S − linear form |\n"
          "|---|---|---|---|---|\n"
          + "\n".join(rows)
          + "\n\nPass: for κ ≤ 1 no argument is below −1e-12 (rounding; the κ = 1 worst case touches 0 on the "
          f"pairs where x − z has the sign pattern −s) and |gap| < {_EQ:g}; the κ = 3 control clips (negative "
          f"arguments, gap > {_CONTROL:g}).")
    chk = Check("max over κ ≤ 1 of (max(0, −min argument − 1e-12), |S − linear form|)", stat, _EQ, _EQ_BASIS,
                "κ = 3 (the hinge clips): |S − linear form|", alt)
    return Evidence(ev, checks=[chk], passed=None if ok else False)


@claim("losses-least-squares-tabular-dstar", kind="numerical", ref="THEORY.md §2",
       statement="Over a tabular D the least-squares discriminator loss is minimised by D* = (b p + a q)/(p + q); "
                 "at D*, 2C(G) = Δ_LC(p, q) for (a, b, c) = (−1, 1, 0) and ∫ q²/(p + q) for (0, 1, 1)")
def _least_squares_tabular(ctx: Context) -> Evidence:
    from .. import densities as Dn
    from .. import divergences as dv

    P = Dn.Mixture([Dn.Normal(-1.0, 0.6), Dn.Normal(1.5, 0.8)], [0.4, 0.6])
    Q = Dn.Normal(0.5, 1.2)
    lo = min(P.domain()[0][0], Q.domain()[0][0])
    hi = max(P.domain()[0][1], Q.domain()[0][1])
    t, w = np.polynomial.legendre.leggauss(600)
    x = 0.5 * (hi - lo) * t + 0.5 * (hi + lo)
    w = 0.5 * (hi - lo) * w
    p, q = P.pdf(x), Q.pdf(x)
    wp, wq = torch.tensor(w * p, dtype=_DT), torch.tensor(w * q, dtype=_DT)
    rows, ok, d_stat, d_alt, v_stat, v_alt, v_tol = [], True, 0.0, np.inf, 0.0, np.inf, 0.0
    refs = {(-1.0, 1.0, 0.0): ("Δ_LC(p, q)", dv.triangular(P, Q)),
            (0.0, 1.0, 1.0): ("∫ q²/(p+q)", dv.integrate_pointwise(lambda pp, qq: qq ** 2 / (pp + qq), P, Q))}
    for (a, b, c), (name, ref) in refs.items():
        D = L.tabular_minimiser(lambda r, f, a=a, b=b: L.least_squares_discriminator_loss(r, f, a, b), wp, wq)
        d_err = np.abs(D.numpy() - (b * p + a * q) / (p + q)).max()
        two_c = 2 * ((wp + wq) * L.least_squares_generator_loss(D[:, None], c)).sum().item()
        v_err = abs(two_c - ref.value)
        ok &= d_err < 1e-12 and v_err <= 1e-9 + ref.abserr
        d_stat, v_stat, v_tol = max(d_stat, d_err), max(v_stat, v_err), max(v_tol, 1e-9 + ref.abserr)
        d_alt = min(d_alt, np.abs(D.numpy() - (1.01 * b * p + a * q) / (p + q)).max())
        v_alt = min(v_alt, abs(two_c - 1.001 * ref.value))
        rows.append(f"| ({a:g}, {b:g}, {c:g}) | {d_err:.1e} | {two_c:.12f} | {name} = {ref.value:.12f} "
                    f"(± {ref.abserr:.0e}) |")
    ev = (f"p = {P.spec}, q = {Q.spec}; tabular D on 600 Gauss–Legendre nodes of [{lo}, {hi}], minimised by "
          "bisection on the autograd derivative of `least_squares_discriminator_loss` (no closed form used); "
          "reference values by adaptive quadrature (`lsgan_theory.divergences`).\n\n"
          "| (a, b, c) | max |D − D*| | 2C(G) at tabular optimum | reference |\n|---|---|---|---|\n"
          + "\n".join(rows) + "\n\nPass: max |D − D*| < 1e-12 and |2C(G) − reference| ≤ 1e-9 + abserr. The 0-1 "
          "coding's value ∫ q²/(p+q) is 1/2 at q = p, so it is not a divergence.")
    checks = [Check("max |D_tabular − D*|", d_stat, 1e-12, "numerical: bisection to float64 resolution",
                    "D* with b·1.01", d_alt),
              Check("|2C(G) − reference|", v_stat, v_tol, "numerical: 1e-9 + the reference quadrature's abserr",
                    "reference·1.001", v_alt)]
    return Evidence(ev, checks=checks)


@claim("losses-gradient-penalty-per-sample", kind="numerical", ref="THEORY.md §4",
       statement="The WGAN-GP penalty takes the gradient norm per sample over all non-batch dimensions; a batch-level "
                 "norm or a norm over one axis (bugs in public code) gives a different value")
def _gp_per_sample(ctx: Context) -> Evidence:
    torch.manual_seed(ctx.seed)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.Tanh(), torch.nn.Flatten(),
                              torch.nn.Linear(4 * 6 * 6, 1)).to(_DT)
    g = torch.Generator().manual_seed(ctx.seed)
    xr, xf = torch.randn(8, 3, 6, 6, generator=g, dtype=_DT), torch.randn(8, 3, 6, 6, generator=g, dtype=_DT)
    eps = torch.rand(8, generator=g, dtype=_DT)
    vec = L.gradient_penalty(net, xr, xf, eps=eps).item()
    loop = []
    for i in range(8):
        xh = (eps[i] * xr[i] + (1 - eps[i]) * xf[i]).unsqueeze(0).requires_grad_(True)
        (gr,) = torch.autograd.grad(net(xh).sum(), xh)
        loop.append((gr.flatten().norm().item() - 1) ** 2)
    loop_v = 10.0 * float(np.mean(loop))
    xh = (eps.view(-1, 1, 1, 1) * xr + (1 - eps.view(-1, 1, 1, 1)) * xf).requires_grad_(True)
    (gr,) = torch.autograd.grad(net(xh).sum(), xh)
    batch_bug = 10.0 * (gr.norm().item() - 1) ** 2
    dim1_bug = 10.0 * ((gr.norm(2, dim=1) - 1) ** 2).mean().item()
    ev = ("Conv critic on 8 images (3×6×6), float64, the same ε for all four computations.\n\n"
          "| computation | penalty (γ = 10) |\n|---|---|\n"
          f"| `gradient_penalty` (per sample, all of C×H×W) | {vec:.12f} |\n"
          f"| loop, one sample at a time | {loop_v:.12f} |\n"
          f"| bug: one norm over the whole batch | {batch_bug:.6f} |\n"
          f"| bug: norm over the channel axis only (`norm(2, dim=1)`) | {dim1_bug:.6f} |\n\n"
          f"Pass: vectorised = loop within {_EQ:g} (relative), both bugs differ by more than {_CONTROL:g}.")
    chk = Check("|vectorised − loop| / max(1, loop)", abs(vec - loop_v) / max(1.0, loop_v), _EQ, _EQ_BASIS,
                "the batch-norm and channel-norm bugs (smaller relative difference)",
                min(abs(vec - batch_bug), abs(vec - dim1_bug)) / max(1.0, loop_v))
    return Evidence(ev, checks=[chk], data={"per_sample": vec, "loop": loop_v, "batch_norm_bug": batch_bug,
                                  "dim1_bug": dim1_bug})
