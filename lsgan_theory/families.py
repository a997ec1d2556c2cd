"""The one registry of GAN loss families: canonical names, accepted aliases, parameters, what each family can do here.

Used by :mod:`lsgan_theory.symbolic` (``derive``), :mod:`lsgan_theory.ensemble` (the trainer), the studies and the
CLI, so that a family has one name everywhere.  Two names are kept apart:

* ``loss_sensitive`` -- LS-GAN, the *Loss-Sensitive* GAN of Qi (THEORY.md §5); ``glsgan`` its generalisation (§6);
* ``least_squares`` -- LSGAN, the *Least-Squares* GAN of Mao et al. (THEORY.md §2).

Each :class:`Family` states whether the ensemble trainer can train it (``trainable``) and with which D and G
objectives (``d_loss``, ``g_loss``), the family name of the symbolic engine (``symbolic``, ``None`` when the
discriminator problem is not pointwise, e.g. Lipschitz-constrained critics), and its parameters (:class:`Param`: name,
default, meaning, range).  The entry is the one declaration of a trainable family: the trainer's TrainConfig fields,
their per-model broadcasting and range checks, the ``lsgan-theory train`` flags and the sweep-spec keys derive from
it; :func:`parameters` and :func:`owners` say which family declares which parameter, and :func:`unused_parameter` is
the one refusal of a parameter that no selected family uses.  :func:`d_star` gives the closed-form optimal discriminator as a vectorised numpy
function of the density values p(x), q(x), lambdified (and cached) from :func:`lsgan_theory.symbolic.derive`.

>>> canonical("non_saturating")
'gan_ns'
>>> float(d_star("least_squares", 1.0, 3.0, a=-1, b=1))
-0.5
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["Family", "Param", "FAMILIES", "TRAINABLE", "FGAN_NAMES", "canonical", "get", "d_star", "names", "register",
           "unregister", "custom_loss", "parameters", "owners", "unused_parameter"]


@dataclass(frozen=True)
class Param:
    """One hyperparameter of a loss family: its glossary name, default, meaning and accepted range.

    The trainer's :class:`~lsgan_theory.ensemble.TrainConfig` field, its per-model broadcasting, its range check, the
    ``lsgan-theory train`` flag (``--name`` with ``_`` → ``-``, for per-model numbers) and the sweep-spec key all
    derive from this declaration.  ``per_model``: a number that may differ between the models of one ensemble (a
    float or a tuple of ``n_models`` floats); else one value for the whole ensemble (the ``custom`` family's
    formulas, strings).  ``lo``/``hi`` (``lo_open``/``hi_open``: strict) are the keywords of
    :func:`lsgan_theory.losses.check_hyperparameter`.  ``example``: a valid value of a parameter that must be given
    (no default, e.g. the ``custom`` family's formulas), with which another value of the family can be checked alone
    (the sweep specs check each key so).
    """

    name: str
    default: float | str | None
    meaning: str
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    per_model: bool = True
    example: str | None = None

    @property
    def range(self) -> dict:
        """The range keywords of :func:`lsgan_theory.losses.check_hyperparameter` (empty: any finite number)."""
        out = {k: v for k, v in (("lo", self.lo), ("hi", self.hi)) if v is not None}
        return out | {k: True for k, v in (("lo_open", self.lo_open), ("hi_open", self.hi_open)) if v}

    @property
    def annotation(self) -> str:
        """The type of its TrainConfig field, as written in an annotation."""
        if self.per_model:
            return "float | tuple[float, ...]"
        return "str | None" if self.default is None else "str"


@dataclass(frozen=True)
class Family:
    """One loss family.

    ``parameters``: the family's own hyperparameters (:class:`Param`; ``params`` gives ((name, default), ...)).
    ``output``: how the discriminator's raw output is read -- ``"logit"`` (D = sigmoid(output)), ``"score"`` (a real
    value) or ``"loss"`` (the loss L_θ(x) of LS-GAN / GLS-GAN) or ``"custom"`` (D = σ(output) or the output itself,
    decided by the formulas: :func:`lsgan_theory.losses.compile_custom_loss`).

    ``d_loss(out_real, out_fake, real, fake, h)`` and ``g_loss(out_fake, h)`` are the per-model objectives (E_f,) the
    trainer minimises for the E_f models of this family: ``out_*`` (E_f, B) raw network outputs, ``real``/``fake``
    (E_f, B, d) the batches, ``h`` a dict of the family's parameters (per-model ones as (E_f,) tensors, the others as
    values) plus ``"loss_output"`` (the map of TrainConfig.loss_output, raw output → L ≥ 0) and ``"scratch"`` (a dict
    of reusable buffers).  ``None`` for a family the trainer does not train.  ``pair_buffers``: how many
    (batch × batch) tensors per model its D objective holds at once (all-pairs margins and hinges; the trainer's
    memory estimate).
    """

    name: str
    title: str
    theory: str
    aliases: tuple[str, ...] = ()
    parameters: tuple[Param, ...] = ()
    trainable: bool = True
    symbolic: str | None = None
    output: str = "score"
    d_loss: Callable | None = None
    g_loss: Callable | None = None
    pair_buffers: int = 0

    @property
    def params(self) -> tuple[tuple[str, object], ...]:
        """((name, default), ...) of :attr:`parameters`."""
        return tuple((p.name, p.default) for p in self.parameters)


# ------------------------------------------------------------------------------------- the trainer's objectives
# The torch losses live in lsgan_theory.losses (imported on first use: the symbolic engine reads this registry
# without torch).  Each pair below only routes the family's parameters to them.
def _torch_losses():
    from . import losses

    return losses


def _gan_d(out_real, out_fake, real, fake, h):
    return _torch_losses().gan_discriminator_loss(out_real, out_fake)


def _gan_g(out_fake, h):
    return _torch_losses().gan_generator_loss_minimax(out_fake)


def _gan_ns_g(out_fake, h):
    return _torch_losses().gan_generator_loss_non_saturating(out_fake)


def _least_squares_d(out_real, out_fake, real, fake, h):
    return _torch_losses().least_squares_discriminator_loss(out_real, out_fake, a=h["ls_a"], b=h["ls_b"])


def _least_squares_g(out_fake, h):
    return _torch_losses().least_squares_generator_loss(out_fake, c=h["ls_c"])


def _hinge_d(out_real, out_fake, real, fake, h):
    return _torch_losses().hinge_discriminator_loss(out_real, out_fake)


def _hinge_g(out_fake, h):
    return _torch_losses().hinge_generator_loss(out_fake)


def _wgan_d(out_real, out_fake, real, fake, h):
    return _torch_losses().wgan_critic_loss(out_real, out_fake)


def _wgan_g(out_fake, h):
    return _torch_losses().wgan_generator_loss(out_fake)


def _loss_sensitive_d(out_real, out_fake, real, fake, h):
    """LS-GAN: L = loss_output(raw); S = E L(x) + λ E(Δ + L(x) − L(G(z)))_+ over all pairs, Δ = τ‖x − G(z)‖₁.

    The (E_f, n, m) margin buffer is kept in ``h["scratch"]`` across steps (allocating a fresh multi-MB block every
    step costs more than the hinge arithmetic on the CPU: page faults); the kernel consumes it in place."""
    L = _torch_losses()
    out_real, out_fake = h["loss_output"](out_real), h["loss_output"](out_fake)
    scratch, buf = h.get("scratch"), None
    if scratch is not None and real.shape[-1] == 1:  # margin_matrix writes into ``out`` for 1-D samples only
        shape = (real.shape[0], real.shape[1], fake.shape[1])
        buf = scratch.get(shape)
        if buf is None or buf.dtype != real.dtype or buf.device != real.device:
            buf = scratch[shape] = real.new_empty(shape)
    margin = L.margin_matrix(real, fake, margin_kind="l1", tau=h["tau"], out=buf)
    return L.loss_sensitive_objective_unchecked(out_real, out_fake, margin, h["lam"])


def _loss_sensitive_g(out_fake, h):
    return _torch_losses().loss_sensitive_generator_loss(h["loss_output"](out_fake))


def _glsgan_d(out_real, out_fake, real, fake, h):
    L = _torch_losses()
    return L.glsgan_objective(out_real, out_fake, L.margin_matrix(real, fake, margin_kind="l1", tau=h["tau"]), h["nu"])


def _glsgan_g(out_fake, h):
    return _torch_losses().loss_sensitive_generator_loss(out_fake)


@functools.lru_cache(maxsize=64)
def custom_loss(real: str, fake: str, sense: str = "max", generator: str | None = None):
    """The compiled loss of ``family="custom"`` (:func:`lsgan_theory.losses.compile_custom_loss`), cached."""
    return _torch_losses().compile_custom_loss(real, fake, sense, generator)


def _custom_compiled(h):
    return custom_loss(h["custom_real"], h["custom_fake"], h["custom_sense"], h["custom_generator"])


def _custom_d(out_real, out_fake, real, fake, h):
    return _custom_compiled(h).d_loss(out_real, out_fake)


def _custom_g(out_fake, h):
    return _custom_compiled(h).g_loss(out_fake)


_TAU = Param("tau", 1.0, "τ, margin scale in Δ(x, z) = τ‖x − z‖", lo=0.0, lo_open=True)

FAMILIES: dict[str, Family] = {f.name: f for f in (
    Family("gan", "classic GAN (minimax)", "THEORY.md §1", ("minimax", "classic"), symbolic="gan", output="logit",
           d_loss=_gan_d, g_loss=_gan_g),
    Family("gan_ns", "classic GAN (non-saturating generator)", "THEORY.md §1", ("non_saturating", "ns"),
           symbolic="non_saturating", output="logit", d_loss=_gan_d, g_loss=_gan_ns_g),
    Family("least_squares", "LSGAN (Least-Squares GAN, Mao et al.)", "THEORY.md §2", ("lsq", "mao"),
           (Param("ls_a", -1.0, "a, the least-squares label of generated points"),
            Param("ls_b", 1.0, "b, the least-squares label of real points"),
            Param("ls_c", 0.0, "c, the least-squares generator's target")),
           symbolic="least_squares", d_loss=_least_squares_d, g_loss=_least_squares_g),
    Family("hinge", "hinge-loss GAN", "THEORY.md §3", symbolic="hinge", d_loss=_hinge_d, g_loss=_hinge_g),
    Family("wgan", "Wasserstein GAN (clipping or gradient penalty)", "THEORY.md §4", ("wgan_gp",),
           d_loss=_wgan_d, g_loss=_wgan_g),
    Family("loss_sensitive", "LS-GAN (Loss-Sensitive GAN, Qi)", "THEORY.md §5", ("lsgan_qi", "qi"),
           (Param("lam", 1.0, "λ, weight of the LS-GAN hinge term", lo=0.0, lo_open=True), _TAU),
           output="loss", d_loss=_loss_sensitive_d, g_loss=_loss_sensitive_g, pair_buffers=2),
    Family("glsgan", "GLS-GAN (generalized LS-GAN, cost C_nu)", "THEORY.md §6", ("gls_gan", "generalized_ls"),
           (Param("nu", 0.0, "ν of the GLS-GAN cost C_ν(a) = max(a, νa), ν ≤ 1", hi=1.0), _TAU),
           output="loss", d_loss=_glsgan_d, g_loss=_glsgan_g, pair_buffers=5),
    Family("custom", "a loss from formulas (per-sample terms in D; lsgan_theory.symbolic.derive_custom)",
           "THEORY.md §1 pointwise reduction", ("formula",),
           (Param("custom_real", None, "the discriminator's per-sample term on real points (a formula in D)",
                  per_model=False, example="log(D)"),
            Param("custom_fake", None, "the discriminator's per-sample term on generated points (a formula in D)",
                  per_model=False, example="log(1 - D)"),
            Param("custom_generator", None, "the generator's per-sample term (a formula in D; default zero-sum)",
                  per_model=False),
            Param("custom_sense", "max", "whether D maximises (max) or minimises (min) the custom objective",
                  per_model=False)),
           output="custom", d_loss=_custom_d, g_loss=_custom_g),
)}

# f-GAN rows of THEORY.md §8: symbolic only (``derive``), also accepted with the prefix ``fgan_``.
FGAN_NAMES = ("kl", "reverse_kl", "pearson_chi2", "neyman_chi2", "hellinger2", "js", "fgan_gan", "tv")
for _n in FGAN_NAMES:
    FAMILIES[_n] = Family(_n, f"f-GAN ({_n})", "THEORY.md §8", (f"fgan_{_n}",) if not _n.startswith("fgan_") else (),
                          (), False, _n, "score")
del _n

TRAINABLE = tuple(n for n, f in FAMILIES.items() if f.trainable)

_ALIASES = {a: f.name for f in FAMILIES.values() for a in f.aliases}


def _refresh() -> None:
    global TRAINABLE
    TRAINABLE = tuple(n for n, f in FAMILIES.items() if f.trainable)
    _ALIASES.clear()
    _ALIASES.update({a: f.name for f in FAMILIES.values() for a in f.aliases})


def register(family: Family) -> Family:
    """Add ``family`` to the registry (a plug-in's or a test's family; the package's own are declared above).

    The trainer trains it, and its parameters become TrainConfig fields, per-model values, ``lsgan-theory train``
    flags and spec keys, only if it is registered before :mod:`lsgan_theory.ensemble` is first imported (the trainer
    builds TrainConfig from the registry once; a later one is refused by name).  ``ValueError`` for a name or alias already taken, a trainable family without ``d_loss``/
    ``g_loss``, or a parameter another family declares differently (a shared name is one quantity: one default, one
    range)."""
    if not isinstance(family, Family):
        raise TypeError(f"family: expected a lsgan_theory.families.Family, got {type(family).__name__}")
    taken = set(FAMILIES) | set(_ALIASES)
    clash = [n for n in (family.name, *family.aliases) if n in taken]
    if clash:
        raise ValueError(f"family: name or alias {clash[0]!r} is already registered")
    if family.trainable and (family.d_loss is None or family.g_loss is None):
        raise ValueError(f"family: {family.name!r} is trainable but lacks d_loss or g_loss")
    declared = {p.name: p for f in FAMILIES.values() for p in f.parameters}
    for p in family.parameters:
        if p.name in declared and declared[p.name] != p:
            raise ValueError(f"family: parameter {p.name!r} is declared differently by another family "
                             f"({declared[p.name]!r}); one name is one quantity")
    FAMILIES[family.name] = family
    _refresh()
    return family


def unregister(name: str) -> None:
    """Remove a family added by :func:`register` (``ValueError`` for an unknown name)."""
    FAMILIES.pop(canonical(name))
    _refresh()


def names(*, trainable: bool | None = None, symbolic: bool | None = None) -> tuple[str, ...]:
    """Canonical names, optionally only those the trainer can train / the symbolic engine can derive."""
    return tuple(n for n, f in FAMILIES.items()
                 if (trainable is None or f.trainable == trainable)
                 and (symbolic is None or (f.symbolic is not None) == symbolic))


def parameters(*, trainable: bool = True) -> dict[str, Param]:
    """Every family parameter by name (:class:`Param`; a name shared by families is one quantity, declared once), of
    the trainable families by default, in registry order."""
    return {p.name: p for f in FAMILIES.values() if not trainable or f.trainable for p in f.parameters}


def owners(param: str, *, trainable: bool = True) -> tuple[str, ...]:
    """The canonical names of the families that declare parameter ``param`` (the trainable ones by default), in
    registry order; ``()`` for a name no family declares.

    >>> owners("tau")
    ('loss_sensitive', 'glsgan')
    """
    return tuple(f.name for f in FAMILIES.values() if (not trainable or f.trainable)
                 and any(p.name == param for p in f.parameters))


def unused_parameter(param: str, selected, *, argument: str | None = None, detail: str = "") -> str:
    """The one refusal message for family parameter ``param`` given where none of the ``selected`` families uses it
    (the trainer's TrainConfig, the ``train`` flags and the sweep specs all say this).  ``argument``: what the user
    wrote (a flag, a spec key; default ``param``); ``detail``: said inside the parentheses.

    >>> unused_parameter("nu", ["gan"], argument="--nu")
    "--nu: family 'gan' does not use nu (it would be ignored); it is used only by glsgan"
    """
    selected = tuple(dict.fromkeys(selected))
    fams = ("family " if len(selected) == 1 else "families ") + ", ".join(repr(f) for f in selected)
    verb = "does" if len(selected) == 1 else "do"
    users = ", ".join(owners(param)) or "no trainable family"
    return (f"{argument or param}: {fams} {verb} not use {param} (it would be ignored"
            f"{'; ' + detail if detail else ''}); it is used only by {users}")


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
