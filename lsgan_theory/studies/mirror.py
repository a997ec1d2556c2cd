"""Deterministic mirrored-start equivalences of trained code paths (THEORY.md §6; issue 32).

Two training code paths are *equivalent* when a fixed map T of the loss network's parameters carries every state of
one run onto the state of the other: started from θ_B = T(θ_A) with the same generator, the same data, batches and
noise, the generators stay **exactly** equal (``torch.equal``, IEEE values: +0 = −0) at every step.  That is a
statement about code, so it is checked exactly, on one pair of runs, not by a t-test over seeds.

**GLS-GAN ν = 1 ↔ WGAN** (T = negate the output layer's weight and bias, so f = −L exactly).  With ν = 1 the
loss-network objective is the mean over all n·m pairs of τ|x − z| + L(x) − L(z): its gradient with respect to
L(x_i) is Σ_j 1/(nm) and with respect to L(z_j) is −Σ_i 1/(nm); WGAN's critic loss E_q f − E_p f gives −1/n and
1/m for f = −L.  The hidden layers' gradients are then identical and the output layer's exactly negated; Adam,
RMSProp and SGD are odd in the gradient (negation is exact, rounding is symmetric), weight clipping, the gradient
penalty (‖∇ₓf‖ = ‖∇ₓL‖) and spectral normalisation (σ(−W) = σ(W) with the same power-iteration vector) commute
with T, and both generators minimise E L(G(z)) = −E f(G(z)).  Exactness needs Σ_j 1/(nm) = 1/n in floating point:
true when the batch is a power of two (every partial sum is then exact); for other batch sizes the two paths differ
by rounding from the first step (measured here as the "rounding" pair, not a failure of the equivalence).

**GLS-GAN ν = 0 ↔ LS-GAN** is *not* an identity of the code paths: the ``loss_sensitive`` family (i) maps the
network output through ``loss_output`` (softplus by default, L ≥ 0: another function class than GLS-GAN's L = a),
and (ii) minimises S = E L(x) + λ·H with H = E(Δ + L(x) − L(z))_+ the GLS ν = 0 objective: the E L(x) term has a
θ-gradient, so no finite λ removes it.  With ``loss_output = "identity"`` and SGD at learning rate lr/λ, LS-GAN at λ
is exactly GLS ν = 0 perturbed by E L(x)/λ: the two paths from one start separate by an amount that falls like 1/λ
(:func:`lambda_limit`) and coincide at no finite λ.  (With Adam, whose ε acts as ε/λ on S, a λ-independent
difference remains as well.)

:func:`mirrored_pair` trains the two runs with the engine's :func:`lsgan_theory.ensemble.train` (B from a step-0
checkpoint holding the mirrored start; observers compare the parameters after every step) and reports the first
step at which the generators differ (``None``: never) and the largest parameter difference at the end.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass, replace

import numpy as np
import torch

from ..ensemble import trainer as _trainer

__all__ = ["negate_output_layer", "MirrorResult", "mirrored_pair", "lambda_limit", "is_power_of_two"]


def is_power_of_two(n: int) -> bool:
    return n > 0 and (n & (n - 1)) == 0


def negate_output_layer(params) -> tuple:
    """T: the loss network's parameters with the last layer's weight and bias negated (new tensors), so that the
    network computes exactly −(its output).  Works on the trainer's stacked (E, …) parameters of a plain MLP."""
    out = [p.detach().clone() for p in params]
    out[-2] = -out[-2]
    out[-1] = -out[-1]
    return tuple(out)


@dataclass
class MirrorResult:
    """One pair of runs A, B from mirrored starts.

    ``first_g_diff``: the first completed-step count at which the generators' parameters are not all exactly equal
    (``None``: equal after every step); ``first_d_diff``: the same for B's loss network against T(A's);
    ``g_max_abs`` / ``g_rel``: the largest absolute parameter difference of the generators at the end and that
    divided by the largest |parameter|; ``d_max_abs``: the same for the loss networks (after T); ``steps``: the
    steps run; ``diverged``: whether either run froze its model (a frozen model keeps its parameters, so two
    equivalent runs freeze at the same step and stay equal; one that froze alone differs from then on).
    """

    steps: int
    first_g_diff: int | None
    first_d_diff: int | None
    g_max_abs: float
    g_rel: float
    d_max_abs: float
    diverged: bool

    @property
    def equal(self) -> bool:
        return self.first_g_diff is None


def _max_abs_diff(a, b) -> float:
    return max(float((x - y).abs().max()) for x, y in zip(a, b))


def _equal(a, b) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a, b))


def mirrored_pair(config_a: _trainer.TrainConfig, config_b: _trainer.TrainConfig, *, mirror: bool = True,
                  steps: int | None = None) -> MirrorResult:
    """Train A = ``config_a`` and B = ``config_b`` (one model each, the same ``seed`` and model id, so the same data
    set, batches and noise) from starts B = T(A) (``mirror=True``: B's loss network is A's with the output layer
    negated, :func:`negate_output_layer`; B's generator is A's) or from the same start (``mirror=False``), and
    compare the generators after every step.  ``steps`` defaults to ``config_a.steps``."""
    for name, c in (("config_a", config_a), ("config_b", config_b)):
        if c.n_models != 1:
            raise ValueError(f"{name}: one model per run, got n_models = {c.n_models}")
        if c.d_pieces != 1 or c.d_batchnorm or c.pack != 1:
            raise ValueError(f"{name}: the mirror map T is defined for a plain MLP loss network (no maxout, batch "
                             f"norm or packing)")
    if config_a.ids() != config_b.ids() or config_a.seed != config_b.seed:
        raise ValueError("config_a, config_b: need the same seed and model id (the same draws)")
    steps = config_a.steps if steps is None else int(steps)
    if config_b.n_critic != config_a.n_critic:
        raise ValueError("config_a, config_b: need the same n_critic")
    config_a, config_b = replace(config_a, steps=steps), replace(config_b, steps=steps)
    t_map = negate_output_layer if mirror else (lambda p: p)
    ra, rb = _trainer.setup(config_a), _trainer.setup(config_b)
    sa0, sb0 = _trainer.init_state(ra), _trainer.init_state(rb)
    d_b = t_map(sa0.d_params) if mirror else tuple(p.detach().clone() for p in sa0.d_params)
    sb0 = replace(sb0, d_params=d_b, g_params=tuple(p.detach().clone() for p in sa0.g_params),
                  opt_d=rb.opt_d.init(d_b), opt_g=rb.opt_g.init(sb0.g_params))
    # both runs are the engine's own train(); run A records its parameters after every step (an observer), run B
    # starts from the mirrored state (a step-0 checkpoint) and its observer compares with A's at the same step
    a_g, a_d = {}, {}

    def record_a(obs):
        a_g[obs.step] = tuple(p.detach().clone() for p in obs.state.g_params)
        a_d[obs.step] = t_map(obs.state.d_params)
        return {}

    first = {"g": None, "d": None}

    def compare_b(obs):
        if first["g"] is None and not _equal(a_g[obs.step], obs.state.g_params):
            first["g"] = obs.step
        if first["d"] is None and not _equal(a_d[obs.step], obs.state.d_params):
            first["d"] = obs.step
        return {}

    every = range(1, steps + 1)
    ta = _trainer.train(config_a, observe=record_a, observe_at=every)
    with tempfile.TemporaryDirectory() as tmp:
        start = os.path.join(tmp, "mirrored-start.pt")
        _trainer.save_state(start, rb, sb0)
        tb = _trainer.train(config_b, checkpoint=start, observe=compare_b, observe_at=every)
    g_a, d_a = a_g[steps], a_d[steps]  # A's final generator and T(A's loss network)
    g_abs = _max_abs_diff(g_a, tb.g_params)
    scale = max(float(p.abs().max()) for p in g_a)
    return MirrorResult(steps=steps, first_g_diff=first["g"], first_d_diff=first["d"], g_max_abs=g_abs,
                        g_rel=g_abs / scale if scale > 0 else math.nan, d_max_abs=_max_abs_diff(d_a, tb.d_params),
                        diverged=bool(ta.diverged.any() or tb.diverged.any()))


def lambda_limit(config_gls: _trainer.TrainConfig, lams, *, steps: int | None = None) -> dict:
    """GLS ν = 0 (``config_gls``) against LS-GAN with ``loss_output="identity"`` at each λ of ``lams``, from the same
    start (no map: both networks output L), both trained with SGD (momentum ``beta1``) in float64, LS-GAN's loss
    network with learning rate ``lr_d``/λ: SGD on S = E L(x) + λH at lr/λ is SGD on H + E L(x)/λ at lr, so the two
    paths differ by exactly the E L(x)/λ term (Adam would add a λ-independent ε difference: its ε acts as ε/λ on S).

    Returns ``{"lam": [...], "g_max_abs": [...], "slope": fitted log-log slope of g_max_abs in λ, "g_scale": the
    largest |generator parameter| of the GLS run at the end}``: the largest generator-parameter difference after
    ``steps`` (g_scale sets the float64 rounding floor steps · ε₆₄ · g_scale below which a difference means
    nothing).  The λ → ∞ reading predicts slope −1 (a perturbation of size 1/λ, carried linearly while it is
    small); a λ-independent difference would give 0.
    """
    a = replace(config_gls, optimizer="sgd", dtype="float64")
    diffs, scales = [], []
    for lam in lams:
        cb = replace(a, family="loss_sensitive", nu=0.0, lam=float(lam), loss_output="identity",
                     lr_d=a.lr_d / float(lam))
        r = mirrored_pair(a, cb, mirror=False, steps=steps)
        diffs.append(r.g_max_abs)
        scales.append(r.g_max_abs / r.g_rel if r.g_rel > 0 else math.nan)
    x, y = np.log(np.asarray(lams, float)), np.log(np.asarray(diffs, float))
    ok = np.isfinite(y)
    slope = float(np.polyfit(x[ok], y[ok], 1)[0]) if ok.sum() >= 2 else math.nan
    return {"lam": [float(v) for v in lams], "g_max_abs": diffs, "slope": slope,
            "g_scale": float(np.nanmax(scales)) if np.isfinite(scales).any() else math.nan}
