"""The one registry of GAN loss families: canonical names, accepted aliases, parameters, what each family can do here.

Used by :mod:`lsgan_theory.symbolic` (``derive``), :mod:`lsgan_theory.ensemble` (the trainer), the studies and the
CLI, so that a family has one name everywhere.  Two names are kept apart:

* ``loss_sensitive`` -- LS-GAN, the *Loss-Sensitive* GAN of Qi (THEORY.md §5); ``glsgan`` its generalisation (§6);
* ``least_squares`` -- LSGAN, the *Least-Squares* GAN of Mao et al. (THEORY.md §2).

Each :class:`Family` states whether the ensemble trainer can train it (``trainable``), the family name of the symbolic
engine (``symbolic``, ``None`` when the discriminator problem is not pointwise, e.g. Lipschitz-constrained critics),
and its parameters with defaults.  :func:`d_star` gives the closed-form optimal discriminator as a vectorised numpy
function of the density values p(x), q(x), lambdified (and cached) from :func:`lsgan_theory.symbolic.derive`.

>>> canonical("non_saturating")
'gan_ns'
>>> float(d_star("least_squares", 1.0, 3.0, a=-1, b=1))
-0.5
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

__all__ = ["Family", "FAMILIES", "TRAINABLE", "FGAN_NAMES", "canonical", "get", "d_star", "names"]


@dataclass(frozen=True)
class Family:
    """One loss family.

    ``params``: ((name, default), ...) of the family's own hyperparameters (trainer field names); ``output``: how the
    discriminator's raw output is read -- ``"logit"`` (D = sigmoid(output)), ``"score"`` (a real value) or ``"loss"``
    (the loss L_θ(x) of LS-GAN / GLS-GAN) or ``"custom"`` (D = σ(output) or the output itself, decided by the formulas:
    :func:`lsgan_theory.losses.compile_custom_loss`).
    """

    name: str
    title: str
    theory: str
    aliases: tuple[str, ...] = ()
    params: tuple[tuple[str, float], ...] = ()
    trainable: bool = True
    symbolic: str | None = None
    output: str = "score"


FAMILIES: dict[str, Family] = {f.name: f for f in (
    Family("gan", "classic GAN (minimax)", "THEORY.md §1", ("minimax", "classic"), (), True, "gan", "logit"),
    Family("gan_ns", "classic GAN (non-saturating generator)", "THEORY.md §1", ("non_saturating", "ns"), (), True,
           "non_saturating", "logit"),
    Family("least_squares", "LSGAN (Least-Squares GAN, Mao et al.)", "THEORY.md §2", ("lsq", "mao"),
           (("ls_a", -1.0), ("ls_b", 1.0), ("ls_c", 0.0)), True, "least_squares", "score"),
    Family("hinge", "hinge-loss GAN", "THEORY.md §3", (), (), True, "hinge", "score"),
    Family("wgan", "Wasserstein GAN (clipping or gradient penalty)", "THEORY.md §4", ("wgan_gp",), (), True, None,
           "score"),
    Family("loss_sensitive", "LS-GAN (Loss-Sensitive GAN, Qi)", "THEORY.md §5", ("lsgan_qi", "qi"),
           (("lam", 1.0), ("tau", 1.0)), True, None, "loss"),
    Family("glsgan", "GLS-GAN (generalized LS-GAN, cost C_nu)", "THEORY.md §6", ("gls_gan", "generalized_ls"),
           (("nu", 0.0), ("tau", 1.0)), True, None, "loss"),
    Family("custom", "a loss from formulas (per-sample terms in D; lsgan_theory.symbolic.derive_custom)",
           "THEORY.md §1 pointwise reduction", ("formula",),
           (("custom_real", None), ("custom_fake", None), ("custom_generator", None), ("custom_sense", "max")), True,
           None, "custom"),
)}

# f-GAN rows of THEORY.md §8: symbolic only (``derive``), also accepted with the prefix ``fgan_``.
FGAN_NAMES = ("kl", "reverse_kl", "pearson_chi2", "neyman_chi2", "hellinger2", "js", "fgan_gan", "tv")
for _n in FGAN_NAMES:
    FAMILIES[_n] = Family(_n, f"f-GAN ({_n})", "THEORY.md §8", (f"fgan_{_n}",) if not _n.startswith("fgan_") else (),
                          (), False, _n, "score")
del _n

TRAINABLE = tuple(n for n, f in FAMILIES.items() if f.trainable)

_ALIASES = {a: f.name for f in FAMILIES.values() for a in f.aliases}


def names(*, trainable: bool | None = None, symbolic: bool | None = None) -> tuple[str, ...]:
    """Canonical names, optionally only those the trainer can train / the symbolic engine can derive."""
    return tuple(n for n, f in FAMILIES.items()
                 if (trainable is None or f.trainable == trainable)
                 and (symbolic is None or (f.symbolic is not None) == symbolic))


def canonical(name, *, argument: str = "family") -> str:
    """The canonical family name for ``name`` or one of its aliases (case, ``-`` and spaces ignored)."""
    if not isinstance(name, str):
        raise TypeError(f"{argument}: expected a family name (string), got {type(name).__name__}")
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    key = _ALIASES.get(key, key)
    if key not in FAMILIES:
        raise ValueError(f"{argument}: unknown loss family {name!r}; known: {', '.join(FAMILIES)} "
                         f"(aliases: {', '.join(sorted(_ALIASES))})")
    return key


def get(name) -> Family:
    """The :class:`Family` of ``name`` (canonical or alias)."""
    return FAMILIES[canonical(name)]


@functools.lru_cache(maxsize=64)
def _d_star_fn(symbolic_name: str, params: tuple):
    import sympy

    from .symbolic import derive, p, q

    expr = derive(symbolic_name, **dict(params)).d_star
    return sympy.lambdify((p, q), expr, modules=[{"Heaviside": lambda x: np.heaviside(x, 0.5)}, "numpy"])


def d_star(name, p, q, **params) -> np.ndarray:
    """The closed-form optimal discriminator D*(x) of a family from density values ``p``, ``q`` (arrays, broadcast).

    Lambdified from :func:`lsgan_theory.symbolic.derive` (THEORY.md §1–§3, §8) and cached per parameter set.  For the
    least-squares family the parameters are the trainer's ``ls_a``, ``ls_b`` (or ``a``, ``b``).  Raises ``ValueError``
    for a family without a pointwise optimum (``wgan``, ``loss_sensitive``, ``glsgan``: their critics are constrained
    to a Lipschitz class, see :mod:`lsgan_theory.nonparametric`).  The hinge's D* is +1 where p > q, −1 where p < q and
    NaN where p = q (any value in [−1, 1] is optimal there).
    """
    fam = get(name)
    if fam.name == "custom":
        raise ValueError("family: 'custom' is given by formulas; its D* comes from "
                         "lsgan_theory.symbolic.derive_custom(real, fake, ...).d_star")
    if fam.symbolic is None:
        raise ValueError(f"family: {fam.name!r} has no pointwise closed-form optimal discriminator (its critic is "
                         f"Lipschitz-constrained); closed forms exist for "
                         f"{', '.join(n for n in names(symbolic=True))}")
    sym_params = ()
    if fam.name == "least_squares":
        a = params.pop("ls_a", params.pop("a", -1.0))
        b = params.pop("ls_b", params.pop("b", 1.0))
        params.pop("ls_c", None)
        params.pop("c", None)
        sym_params = (("a", float(a)), ("b", float(b)), ("c", 0.0))
    if params:
        raise ValueError(f"params: {sorted(params)} are not parameters of D* for family {fam.name!r}")
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = _d_star_fn(fam.symbolic, sym_params)(p, q)
    return np.broadcast_to(np.asarray(out, dtype=np.float64), np.broadcast(p, q).shape).copy()
