"""CLS-GAN studies (THEORY.md §7): Theorem 3 per class on toy data, semi-supervised classification of 8×8 digits.

* :func:`theorem3_toy` -- class-conditional 1-D targets p(x | y) (any :mod:`lsgan_theory.densities` spec per class,
  equal priors); one ensemble over λ × seeds of conditional generators 1 + K → width → width → 1 (ReLU, 1-D noise),
  so q̂(x | y) is exact for every class (:func:`lsgan_theory.ensemble.conditional.fold_label` + the pushforward
  density); per class ∫|p(x|y) − q̂(x|y)| next to 2/λ, the capacity floor of the same architecture fitted to that
  class alone, and :func:`lsgan_theory.studies.theorem1.read_bound`'s reading.
* :func:`theorem3_toy_2d` -- the same with 2-D class densities; ∫|p − q̂| is estimated on a grid of bins (a lower
  bound of the true L1 up to sampling noise, whose floor is measured with samples of p itself), so only a
  *violation* is informative there.
* :func:`semi_supervised_digits` -- scikit-learn's 8×8 handwritten digits (1797 images, 10 classes, bundled with
  scikit-learn: no download), a fixed stratified train/test split (:func:`digits_split`: ``random_state=0``, 1/3
  test = 599 images, 1198 train), ``labels_per_class`` labels per class (0 = all), the rest of the training set
  unlabelled.  Three methods on the *same* labels per seed: CLS-GAN (λ > 0, γ_ul > 0), the same loss network trained
  on the labelled examples alone (λ = 0, γ_ul = 0: S = E L(x, y)), and scikit-learn's ``LogisticRegression``.
  Test accuracy per seed, mean with a 95 % Student-t interval over seeds, and paired differences.

scikit-learn is the optional ``digits`` extra: ``pip install 'lsgan-theory[digits]'``.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from .. import densities as _densities
from ..ensemble import conditional as _cond
from ..provenance import provenance
from .theorem1 import capacity_floor, generator_metrics, read_bound
from .stats import t_interval  # noqa: F401  (public here too: studies.clsgan.t_interval)

__all__ = ["load_digits_data", "digits_split", "DigitsSplit", "digits_validation_split", "DigitsValidationSplit",
           "SemiSupervisedResult", "semi_supervised_digits", "t_interval", "Theorem3Result", "theorem3_toy",
           "theorem3_toy_2d", "binned_l1_2d", "THEOREM3_CLASSES", "THEOREM3_CLASSES_2D"]

DIGITS_EXTRA = ("the digits study needs scikit-learn (its bundled 8×8 digits, no download): install the extra with "
                "pip install 'lsgan-theory[digits]' (or pip install scikit-learn)")

THEOREM3_CLASSES = ("normal(-1.5,0.5)", "mixture(normal(0.5,0.3),normal(2,0.4);0.5,0.5)", "beta(2,2)")
THEOREM3_CLASSES_2D = ("normal2d(-1,0,0.5)", "normal2d(1,0,0.5)", "normal2d(0,1.5,0.4)")


def _sklearn():
    try:
        import sklearn  # noqa: F401
        from sklearn.datasets import load_digits
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import train_test_split
    except ImportError as exc:
        raise ImportError(DIGITS_EXTRA) from exc
    return load_digits, LogisticRegression, train_test_split


def load_digits_data() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8×8 digits through its own loader (bundled data): x (1797, 64) in [0, 1] (pixel / 16), y (1797,).

    Raises ``ImportError`` with the install command when scikit-learn (the ``digits`` extra) is missing.
    """
    load_digits = _sklearn()[0]
    d = load_digits()
    return np.asarray(d.data, dtype=np.float64) / 16.0, np.asarray(d.target, dtype=np.int64)


@dataclass(frozen=True)
class DigitsSplit:
    """The fixed train/test split of the digits: stratified, ``random_state`` = ``seed``, ``test_fraction`` test."""

    x_train: np.ndarray = field(repr=False)
    y_train: np.ndarray = field(repr=False)
    x_test: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)
    seed: int = 0
    test_fraction: float = 1.0 / 3.0


def digits_split(test_fraction: float = 1.0 / 3.0, seed: int = 0) -> DigitsSplit:
    """``sklearn.model_selection.train_test_split(x, y, test_size=test_fraction, stratify=y, random_state=seed)``.

    The default (seed 0, 1/3) gives 1198 training and 599 test images, every class in both in proportion.
    """
    if not (isinstance(test_fraction, float) and 0 < test_fraction < 1):
        raise ValueError(f"test_fraction: must be a float in (0, 1), got {test_fraction!r}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed: must be an integer >= 0, got {seed!r}")
    x, y = load_digits_data()
    split = _sklearn()[2]
    xtr, xte, ytr, yte = split(x, y, test_size=test_fraction, stratify=y, random_state=seed)
    return DigitsSplit(xtr, ytr, xte, yte, seed, test_fraction)


@dataclass(frozen=True)
class DigitsValidationSplit:
    """The fixed test split of :func:`digits_split` and its training part cut in two: a *fit* part (labelled subsets
    and the unlabelled pool come from it) and a *validation* part (for choosing hyperparameters).  ``*_index`` are
    the images' positions in :func:`load_digits_data`; the three index sets are disjoint and cover the 1797 images."""

    x_fit: np.ndarray = field(repr=False)
    y_fit: np.ndarray = field(repr=False)
    x_val: np.ndarray = field(repr=False)
    y_val: np.ndarray = field(repr=False)
    x_test: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)
    fit_index: np.ndarray = field(repr=False)
    val_index: np.ndarray = field(repr=False)
    test_index: np.ndarray = field(repr=False)
    validation_fraction: float = 0.25
    seed: int = 0


def digits_validation_split(validation_fraction: float = 0.25, seed: int = 0) -> DigitsValidationSplit:
    """A stratified validation part carved from the *training* images of :func:`digits_split` (its default test split
    untouched): ``train_test_split(train, test_size=validation_fraction, stratify=y_train, random_state=seed)``.

    The default (0.25, seed 0) gives 898 fit, 300 validation and 599 test images, every class in each in proportion.
    """
    if not (isinstance(validation_fraction, float) and 0 < validation_fraction < 1):
        raise ValueError(f"validation_fraction: must be a float in (0, 1), got {validation_fraction!r}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed: must be an integer >= 0, got {seed!r}")
    x, y = load_digits_data()
    split = _sklearn()[2]
    # the same call as digits_split on the indices: train_test_split permutes positions, whatever the arrays hold
    train, test = split(np.arange(y.size), test_size=1.0 / 3.0, stratify=y, random_state=0)
    fit, val = split(train, test_size=validation_fraction, stratify=y[train], random_state=seed)
    return DigitsValidationSplit(x[fit], y[fit], x[val], y[val], x[test], y[test], fit, val, test,
                                 validation_fraction, seed)



# ------------------------------------------------------------------------------------------------ digits
@dataclass
class SemiSupervisedResult:
    """Test accuracies of CLS-GAN, the supervised loss network and logistic regression on the same labels.

    ``rows``: one dict per (method, labels_per_class, seed) with ``accuracy``; ``summary``: per (method,
    labels_per_class) the mean and 95 % t-interval over seeds; ``paired``: per labels_per_class the mean
    difference CLS-GAN − other method over the same seeds (same labels) with its t-interval; ``samples``:
    generated digits of the CLS-GAN models, (n_cls_models, 10, n, 8, 8) in [0, 1] scale (clipped), with
    ``sample_models`` their (labels_per_class, seed); ``diverged``: number of frozen models.
    """

    rows: list
    summary: list
    paired: list
    samples: np.ndarray = field(repr=False)
    sample_models: list = field(repr=False)
    diverged: int
    config: dict = field(repr=False)
    seconds: float = 0.0
    provenance: dict = field(default_factory=dict, repr=False)


METHODS = ("clsgan", "supervised", "logreg")


def semi_supervised_digits(labels_per_class=(5, 10, 20, 0), *, seeds: int = 5, steps: int = 3000, lam: float = 1.0,
                           gamma_ul: float = 1.0, tau: float = 1.0 / 64, noise_dim: int = 16, hidden: int = 128,
                           batch: int = 64, lr: float = 1e-3, n_samples: int = 10, seed: int = 0,
                           device: str = "cpu", dtype: str = "float32", logreg_c: float = 1.0
                           ) -> SemiSupervisedResult:
    """Semi-supervised 8×8 digits with few labels: CLS-GAN vs the same loss network alone vs logistic regression.

    One ensemble of ``len(labels_per_class) × seeds × 2`` models: for each (labels per class n_l, replicate r) a
    CLS-GAN model (λ = ``lam``, γ_ul = ``gamma_ul``, Δ = τ‖x − G(z, y)‖₁) and a supervised model (λ = 0, γ_ul = 0)
    sharing ``label_split = r`` (the same n_l labelled images per class; 0 = every training label).  Networks: loss
    network 64 → hidden → hidden → 10, generator 16 + 10 → hidden → hidden → 64, ReLU, Adam (lr, β = (0.5, 0.999)),
    batch labelled reals, batch unlabelled reals, batch fakes per step.  ``LogisticRegression(C=logreg_c,
    max_iter=5000)`` is fitted on the same labelled images.  Accuracy on the fixed test split (:func:`digits_split`).
    """
    LogisticRegression = _sklearn()[1]
    lpcs = tuple(int(v) for v in labels_per_class)
    if not lpcs or any(v < 0 for v in lpcs):
        raise ValueError(f"labels_per_class: need integers >= 1 (0 = all labels), got {labels_per_class!r}")
    if not isinstance(seeds, int) or seeds < 2:
        raise ValueError(f"seeds: an interval over seeds needs an integer >= 2, got {seeds!r}")
    t0 = time.perf_counter()
    sp = digits_split()
    data = _cond.prepare_data(sp.x_train, sp.y_train, n_classes=10)
    grid = [(m, n_l, r) for n_l in lpcs for r in range(seeds) for m in ("clsgan", "supervised")]
    cfg = _cond.ConditionalConfig(
        n_classes=10, data_dim=64, n_models=len(grid), seed=seed, steps=steps, batch=batch, batch_ul=batch,
        noise_dim=noise_dim, g_hidden=(hidden, hidden), d_hidden=(hidden, hidden), lr_d=lr, lr_g=lr,
        lam=tuple(lam if m == "clsgan" else 0.0 for m, _, _ in grid),
        gamma_ul=tuple(gamma_ul if m == "clsgan" else 0.0 for m, _, _ in grid), tau=tau,
        labels_per_class=tuple(n_l for _, n_l, _ in grid), label_split=tuple(r for _, _, r in grid),
        record_every=max(1, steps // 50), device=device, dtype=dtype)
    res = _cond.train_conditional(cfg, data)
    pred = res.classify(sp.x_test)
    acc = (pred == sp.y_test[None, :]).mean(1)
    acc = np.where(res.diverged, np.nan, acc)
    rows = []
    for e, (m, n_l, r) in enumerate(grid):
        rows.append({"method": m, "labels_per_class": n_l, "seed": r, "accuracy": float(acc[e]),
                     "n_labelled": int(res.labelled[e].sum()), "diverged": bool(res.diverged[e])})
        if m == "clsgan":  # logistic regression on exactly this model's labelled images
            mask = res.labelled[e]
            clf = LogisticRegression(C=logreg_c, max_iter=5000).fit(sp.x_train[mask], sp.y_train[mask])
            rows.append({"method": "logreg", "labels_per_class": n_l, "seed": r,
                         "accuracy": float((clf.predict(sp.x_test) == sp.y_test).mean()),
                         "n_labelled": int(mask.sum()), "diverged": False})
    summary, paired = [], []
    for n_l in lpcs:
        by = {m: np.array([row["accuracy"] for row in rows if row["method"] == m and row["labels_per_class"] == n_l])
              for m in METHODS}
        for m in METHODS:
            mean, lo, hi = t_interval(by[m])
            summary.append({"method": m, "labels_per_class": n_l, "mean": mean, "ci": (lo, hi),
                            "seeds": int(np.isfinite(by[m]).sum())})
        for other in ("supervised", "logreg"):
            mean, lo, hi = t_interval(by["clsgan"] - by[other])
            paired.append({"labels_per_class": n_l, "versus": other, "mean_diff": mean, "ci": (lo, hi)})
    cls_models = [e for e, (m, _, _) in enumerate(grid) if m == "clsgan"]
    samples = np.clip(res.sample(n_samples)[cls_models], 0.0, 1.0).reshape(len(cls_models), 10, n_samples, 8, 8)
    return SemiSupervisedResult(rows, summary, paired, samples, [(grid[e][1], grid[e][2]) for e in cls_models],
                                int(res.diverged.sum()), asdict(cfg), time.perf_counter() - t0,
                                provenance(device))


# ------------------------------------------------------------------------------------------------ Theorem 3
@dataclass
class Theorem3Result:
    """Per-class ∫|p(x|y) − q̂(x|y)| over (λ, seed) and its reading against 2/λ.

    ``l1``: (n_λ, seeds, K), NaN for a diverged model; ``floors``: (K,) per-class floor (capacity floor in 1-D, the
    estimator floor in 2-D); ``readings``: one :class:`~lsgan_theory.studies.theorem1.BoundReading` per class;
    ``accuracy``: (n_λ, seeds) of argmin_y L(x, y) on fresh samples, next to ``bayes_accuracy`` (Monte Carlo);
    ``exact``: whether the L1 values are exact (1-D) or binned estimates (2-D).
    """

    classes: tuple
    lams: np.ndarray
    l1: np.ndarray
    floors: np.ndarray
    readings: list
    accuracy: np.ndarray
    bayes_accuracy: float
    exact: bool
    config: dict = field(repr=False)
    seconds: float = 0.0
    provenance: dict = field(default_factory=dict, repr=False)
    # issue 29, with ``certificates=True``: per (λ, seed, class) a PairCertificate (None: diverged), and per class the
    # readings at certified pairs (lists over λ of CertifiedReading, against 2/(1+λ) and against 2/λ)
    certificates: list | None = field(default=None, repr=False)
    certified_readings: list | None = field(default=None, repr=False)
    certified_readings_paper: list | None = field(default=None, repr=False)
    l1_abserr: np.ndarray | None = field(default=None, repr=False)


def _class_data(classes, n_per_class: int, seed: int):
    ps = [_densities.parse(c) for c in classes]
    dims = {p.dim for p in ps}
    if len(dims) != 1:
        raise ValueError(f"classes: every class density must have the same dimension, got {[p.dim for p in ps]}")
    rng = np.random.default_rng([seed, 7301])
    xs = [np.asarray(p.sample(n_per_class, rng)).reshape(n_per_class, -1) for p in ps]
    y = np.repeat(np.arange(len(ps)), n_per_class)
    return ps, np.concatenate(xs), y


def _bayes_accuracy(ps, x, y) -> float:
    logp = np.stack([np.asarray(p.logpdf(x if x.shape[1] > 1 else x[:, 0]), dtype=np.float64) for p in ps], 1)
    return float((logp.argmax(1) == y).mean())


def _train_toy(classes, lams, seeds, steps, width, n_per_class, tau, lr, batch, seed, device, noise_dim):
    lams = np.asarray(lams, dtype=np.float64)
    if lams.ndim != 1 or lams.size < 1 or not np.all(np.isfinite(lams) & (lams > 0)):
        raise ValueError(f"lams: need finite values > 0, got {lams.tolist()}")
    if not isinstance(seeds, int) or seeds < 2:
        raise ValueError(f"seeds: an interval over seeds needs an integer >= 2, got {seeds!r}")
    ps, x, y = _class_data(classes, n_per_class, seed)
    data = _cond.prepare_data(x, y, n_classes=len(ps))
    grid = [(lam, r) for lam in lams for r in range(seeds)]
    cfg = _cond.ConditionalConfig(
        n_classes=len(ps), data_dim=x.shape[1], n_models=len(grid), seed=seed, steps=steps, batch=batch,
        batch_ul=8, noise_dim=noise_dim, g_hidden=(width, width), d_hidden=(width, width), lr_d=lr, lr_g=lr,
        lam=tuple(float(l) for l, _ in grid), gamma_ul=0.0, tau=tau, labelled_fraction=1.0,
        record_every=max(1, steps // 50), device=device)
    res = _cond.train_conditional(cfg, data)
    _, xt, yt = _class_data(classes, 2000, seed + 1)
    acc = (res.classify(xt) == yt[None]).mean(1)
    acc = np.where(res.diverged, np.nan, acc).reshape(lams.size, seeds)
    return ps, lams, res, acc, _bayes_accuracy(ps, xt, yt), cfg


def theorem3_toy(classes=THEOREM3_CLASSES, lams=(0.3, 1.0, 3.0, 10.0, 30.0), *, seeds: int = 5, steps: int = 2000,
                 width: int = 32, n_per_class: int = 2**16, tau: float = 1.0, lr: float = 1e-3, batch: int = 64,
                 seed: int = 0, capacity_steps: int = 1500, capacity_models: int = 4, device: str = "cpu",
                 certificates: bool = False, cert_nodes: int = 64) -> Theorem3Result:
    """Theorem 3 (THEORY.md §7) per class on 1-D class-conditional targets, with exact class densities.

    Trains ``len(lams) × seeds`` CLS-GANs (all labels, γ_ul = 0) as one ensemble on ``n_per_class`` samples of
    every class (equal priors, shared by the models).  For each model and class y the generator z ↦ G(z, y) is folded
    into a 1-D piecewise-linear map, its density q̂(x|y) is exact, and ∫|p(x|y) − q̂(x|y)| is computed by quadrature
    (:func:`~lsgan_theory.studies.theorem1.generator_metrics`).  The per-class floor is the capacity floor of an
    unconditional 1 → width → width → 1 generator fitted to that class without an adversary (a conditional generator
    shares its hidden units between classes, so this floor is optimistic for it; ``capacity_models`` networks per
    slope weight, :func:`~lsgan_theory.studies.theorem1.capacity_floor`).  Readings by
    :func:`~lsgan_theory.studies.theorem1.read_bound` per class.

    ``certificates=True`` (issue 29): per model and class, the equilibrium certificates of the class game (the CLS-GAN
    objective decomposes over classes with equal priors: S = mean_y S_y with S_y the LS-GAN objective of p(x|y), the
    loss L(·, y) = −log softmax_y(a(·)) and q̂(x|y)) on ``cert_nodes`` grid cells
    (:func:`~lsgan_theory.studies.certificates.pair_certificate`; the loss network is not Lipschitz-constrained, so
    the LP's class is κ = max(Lip(L̂(·, y)), τ)/τ, the smallest class holding L̂(·, y) in which the hinge can clip), and
    the per-class readings of Theorem 3 at certified pairs
    (:func:`~lsgan_theory.studies.certificates.read_certified`).
    """
    from ..ensemble.pushforward import exact_density

    t0 = time.perf_counter()
    ps, lams, res, acc, bayes, cfg = _train_toy(classes, lams, seeds, steps, width, n_per_class, tau, lr, batch,
                                                seed, device, 1)
    if ps[0].dim != 1:
        raise ValueError("classes: theorem3_toy needs 1-D class densities (use theorem3_toy_2d for 2-D)")
    K = len(ps)
    l1 = np.full((res.config.n_models, K), np.nan)
    err = np.full((res.config.n_models, K), np.nan)
    certs = [[None] * K for _ in range(res.config.n_models)]
    for y in range(K):
        folded = res.class_generator(y)
        for e in range(res.config.n_models):
            if not res.diverged[e]:
                q = exact_density(folded, "relu", model=e)
                gm = generator_metrics(ps[y], q)
                l1[e, y], err[e, y] = gm.l1, gm.l1_abserr
                if certificates:
                    certs[e][y] = _class_certificate(res, e, y, ps[y], q, float(cfg.per_model("lam")[e]),
                                                     float(cfg.per_model("tau")[e]), cert_nodes)
    l1 = l1.reshape(lams.size, seeds, K)
    err = err.reshape(lams.size, seeds, K)
    floors = np.array([capacity_floor(p, hidden=(width, width), steps=capacity_steps, n_models=capacity_models,
                                      seed=seed).floor for p in ps])
    readings = [read_bound(lams, l1[:, :, y], floors[y]) for y in range(K)]
    cr = crp = cgrid = None
    if certificates:
        from .certificates import read_certified

        cgrid = [[[certs[i * seeds + s][y] for y in range(K)] for s in range(seeds)] for i in range(lams.size)]
        cr = [[read_certified(lam, l1[i, :, y], err[i, :, y], [cgrid[i][s][y] for s in range(seeds)])
               for i, lam in enumerate(lams)] for y in range(K)]
        crp = [[read_certified(lam, l1[i, :, y], err[i, :, y], [cgrid[i][s][y] for s in range(seeds)], sharp=False)
                for i, lam in enumerate(lams)] for y in range(K)]
    return Theorem3Result(tuple(p.spec for p in ps), lams, l1, floors, readings, acc, bayes, True, asdict(cfg),
                          time.perf_counter() - t0, provenance(device), cgrid, cr, crp, err)


def _class_certificate(res, e: int, y: int, p, q, lam: float, tau: float, nodes: int):
    """The certificates of model ``e``'s class-``y`` game: L(x, y) = −log softmax_y(a(x)) of the trained loss
    network, κ = max(Lip(L̂(·, y)), τ)/τ measured on a grid over p's central mass."""
    from scipy.special import log_softmax

    from .certificates import pair_certificate

    def L(x):
        a = res.activations(np.asarray(x, dtype=np.float64).reshape(-1, 1))[e]
        return -log_softmax(a, axis=-1)[:, y]

    g = np.linspace(*(float(v) for v in p.ppf(np.array([1e-3, 1 - 1e-3]))), 2001)
    kappa = max(float(np.max(np.abs(np.diff(L(g))) / np.diff(g))), tau) / tau
    return pair_certificate(p, q, L, lam, tau, kappa, nodes=nodes)


def binned_l1_2d(p: _densities.Density, samples: np.ndarray, *, bins: int = 40, n_ref: int = 400_000,
                 rng=None) -> float:
    """Σ_bins |P(bin) − Q̂(bin)| on a square grid covering p's central mass (plus the outside as one bin).

    P(bin) is estimated from ``n_ref`` samples of p, Q̂(bin) from ``samples`` (n, 2).  By the data-processing
    inequality the binned distance is at most the true ∫|p − q̂|; its sampling noise biases it upwards by about
    Σ sqrt(2 P(bin)/(π n)), which :func:`theorem3_toy_2d` measures as the estimator floor (the same estimate with
    samples of p in place of q̂).
    """
    rng = np.random.default_rng(rng)
    ref = np.asarray(p.sample(n_ref, rng)).reshape(n_ref, 2)
    lo, hi = np.quantile(ref, 0.0005, axis=0), np.quantile(ref, 0.9995, axis=0)
    edges = [np.linspace(lo[k], hi[k], bins + 1) for k in range(2)]

    def hist(s):
        s = np.asarray(s).reshape(-1, 2)
        h, _, _ = np.histogram2d(s[:, 0], s[:, 1], bins=edges)
        inside = h.sum()
        return np.r_[h.ravel(), s.shape[0] - inside] / s.shape[0]

    return float(np.abs(hist(ref) - hist(samples)).sum())


def theorem3_toy_2d(classes=THEOREM3_CLASSES_2D, lams=(0.3, 1.0, 3.0, 10.0, 30.0), *, seeds: int = 5,
                    steps: int = 2000, width: int = 64, n_per_class: int = 2**16, tau: float = 1.0, lr: float = 1e-3,
                    batch: int = 64, seed: int = 0, n_eval: int = 20_000, bins: int = 40, noise_dim: int = 2,
                    device: str = "cpu") -> Theorem3Result:
    """Theorem 3 per class with 2-D class densities; ∫|p(x|y) − q̂(x|y)| by :func:`binned_l1_2d` from ``n_eval``
    generated samples per class.  The floor per class is the estimator floor (samples of p itself, same n); the
    estimate lower-bounds the true L1, so a *consistent* reading is not a confirmation here -- only *violated* is
    informative (it would hold for the true L1 too, up to the sampling noise the floor measures)."""
    t0 = time.perf_counter()
    ps, lams, res, acc, bayes, cfg = _train_toy(classes, lams, seeds, steps, width, n_per_class, tau, lr, batch,
                                                seed, device, noise_dim)
    if ps[0].dim != 2:
        raise ValueError("classes: theorem3_toy_2d needs 2-D class densities")
    K = len(ps)
    samples = res.sample(n_eval)
    l1 = np.full((res.config.n_models, K), np.nan)
    for y in range(K):
        for e in range(res.config.n_models):
            if not res.diverged[e]:
                l1[e, y] = binned_l1_2d(ps[y], samples[e, y], bins=bins, rng=[seed, y, 11])
    l1 = l1.reshape(lams.size, seeds, K)
    rng = np.random.default_rng([seed, 12])
    floors = np.array([binned_l1_2d(p, np.asarray(p.sample(n_eval, rng)).reshape(n_eval, 2), bins=bins,
                                    rng=[seed, y, 11]) for y, p in enumerate(ps)])
    readings = [read_bound(lams, l1[:, :, y], 0.0, estimator_floor=floors[y]) for y in range(K)]
    return Theorem3Result(tuple(p.spec for p in ps), lams, l1, floors, readings, acc, bayes, False, asdict(cfg),
                          time.perf_counter() - t0, provenance(device))
