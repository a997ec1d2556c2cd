"""The whole chain for a loss given by formulas (issue 19): derivation, ground truth on a density pair, a short
ensemble run — the study behind ``lsgan-theory analyse``.

:func:`analyse_loss` returns a :class:`LossAnalysis` holding the data; the CLI writes it to a report folder
(summary.md, summary.json and figures drawn by :mod:`lsgan_theory.plots`).  Nothing here draws or concludes beyond
the verdicts that state their terms.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from .. import densities as _densities
from ..ensemble import TrainConfig, TrainResult, train
from ..resources import torch_threads
from .critic import CriticCheck, custom_critic
from .runs import evaluate

__all__ = ["LossAnalysis", "analyse_loss"]


@dataclass
class LossAnalysis:
    """Result of :func:`analyse_loss`.

    ``derivation``: the :class:`lsgan_theory.symbolic.CustomDerivation`; ``ground_truth``: the quadrature check on
    (p, q) (:func:`lsgan_theory.symbolic.custom.ground_truth`); ``critic``: trained discriminators against the fixed
    generator density q vs the derived D* (:func:`lsgan_theory.studies.custom_critic`); ``training``: an ensemble of
    generators trained on p with the loss, and ``metrics`` their distances to p (:func:`lsgan_theory.studies.evaluate`).
    """

    formulas: dict
    p: str
    q: str
    derivation: object
    ground_truth: object
    critic: CriticCheck | None
    training: TrainResult | None = field(default=None, repr=False)
    metrics: list = field(default_factory=list)
    settings: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        gt = self.ground_truth
        out = {"formulas": self.formulas, "p": self.p, "q": self.q, "settings": self.settings,
               "derivation": self.derivation.to_dict()}
        out["ground_truth"] = {"integral_of_value": gt.symbolic, "integral_abserr": gt.symbolic_err,
                               "reference": gt.reference, "reference_abserr": gt.reference_err,
                               "tolerance": gt.tolerance, "agrees": bool(gt.agrees),
                               "reference_is": ("constant + scale * named divergence by its own quadrature"
                                                if self.derivation.named else
                                                "constant + f_divergence(P, Q, f) with the derived f")}
        if self.critic is not None:
            c = self.critic
            out["critic"] = {"statistic": c.statistic, "standard_error": c.standard_error, "tolerance": c.tolerance,
                             "alternatives": c.alternatives, "power": bool(c.power), "n_models": c.n_models}
        if self.training is not None:
            out["training"] = {"diverged": int(self.training.diverged.sum()), "n_models": len(self.metrics),
                               "final_loss_d": self.training.loss_d[:, -1].tolist(),
                               "final_loss_g": self.training.loss_g[:, -1].tolist(), "metrics": self.metrics,
                               "seconds": self.training.seconds}
        return out


def analyse_loss(real: str, fake: str, sense: str = "max", generator: str | None = None, params: dict | None = None,
                 p: str = "normal(0,1)", q: str = "normal(1.5,1)", *, n_models: int = 4, steps: int = 200,
                 seed: int = 0, device: str = "cpu", progress=None) -> LossAnalysis:
    """Derive a loss given by formulas, check its value by quadrature on (p, q), train its discriminator against
    the fixed q and compare with D*, and train ``n_models`` generators on p with it (a short run: seconds).

    Parameters
    ----------
    real, fake, sense, generator, params
        As :func:`lsgan_theory.symbolic.derive_custom` (parameters must be numbers here).
    p, q : density specs (1-D)
        The data density and the generator density of the ground truth and of the critic check.
    n_models, steps, seed, device
        Ensemble size and steps of the critic check and of the generator run.

    Raises
    ------
    ValueError
        Bad formulas or densities, a loss without a pointwise optimum, free parameters.
    """
    from ..symbolic import derive_custom
    from ..symbolic.custom import ground_truth

    for name, v, lo in (("n_models", n_models, 2), ("steps", steps, 1)):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise ValueError(f"{name}: must be an integer >= {lo}, got {v!r}")
    P, Q = _densities.parse(p), _densities.parse(q)
    if P.dim != 1 or Q.dim != 1:
        raise ValueError(f"p, q: the analysis needs 1-D densities, got dimensions {P.dim}, {Q.dim}")
    if params:
        free = [k for k, v in params.items() if v is None]
        if free:
            raise ValueError(f"--param: {', '.join(free)} need values for the analysis (numbers to train with)")
        subst = dict(params)
    else:
        subst = None
    say = progress if progress is not None else (lambda line: None)  # a line per stage (the CLI prints them)
    # bad formulas are refused by the derivation before the first line, so a refusal stays one line
    der = derive_custom(real, fake, sense=sense, generator=generator, params=subst)
    say("1/4 derived (sympy); 2/4 ground truth by quadrature")
    gt = ground_truth(der, P, Q)
    # the torch loss gets the same formulas with the numbers written in (TrainConfig holds no parameters)
    texts = {"real": real, "fake": fake, "generator": generator}
    if subst:
        texts = {k: _substitute(v, subst) for k, v in texts.items()}
    say(f"3/4 {n_models} discriminators against the fixed q ({steps} steps)")
    critic = custom_critic(texts["real"], texts["fake"], sense, texts["generator"], p=P.spec, q=Q.spec,
                           n_models=n_models, steps=steps, batch=64, n_data=2048, width=16, lr=3e-3, seed=seed,
                           device=device, grid=101, derivation=der)
    cfg = TrainConfig(target=P.spec, family="custom", custom_real=texts["real"], custom_fake=texts["fake"],
                      custom_sense=sense, custom_generator=texts["generator"], n_models=n_models, seed=seed,
                      steps=steps, batch=64, n_data=2048, g_hidden=(16, 16), d_hidden=(16, 16), lr_d=2e-3, lr_g=2e-3,
                      record_every=max(1, steps // 50), device=device)
    say(f"4/4 {n_models} generators on p ({steps} steps) and their metrics")
    with torch_threads(1):
        res = train(cfg)
    metrics = evaluate(res, n_eval=1000, seed=seed)
    settings = {"n_models": n_models, "steps": steps, "seed": seed, "device": device,
                "critic": {"batch": 64, "n_data": 2048, "width": 16, "lr": 3e-3},
                "training": dataclasses.asdict(cfg)}
    return LossAnalysis({"real": real, "fake": fake, "sense": sense, "generator": generator,
                         "params": dict(params or {})}, P.spec, Q.spec, der, gt, critic, res,
                        [{k: (float(v) if isinstance(v, (int, float, np.floating)) else v) for k, v in m.items()}
                         for m in metrics], settings)


def _substitute(text, params):
    """The formula with each parameter replaced by its value in parentheses (names matched as whole words)."""
    import re

    if text is None:
        return None
    for k, v in params.items():
        text = re.sub(rf"(?<![A-Za-z0-9_]){re.escape(k)}(?![A-Za-z0-9_])", f"({v})", text)
    return text
