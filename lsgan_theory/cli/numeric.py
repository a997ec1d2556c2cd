"""``lsgan-theory divergence`` (quadrature) and ``lsgan-theory bounds`` (the non-parametric LS-GAN linear program):
the numerical ground truth on densities given as specs."""

from __future__ import annotations

import sys
from pathlib import Path

from .. import __version__
from .common import _POSITIVE, _density_arg, _int_type, _print_json, _writable_dir


def _add_divergence(sub) -> None:
    p = sub.add_parser("divergence", help="a divergence between two densities, by quadrature with its error bound",
                       description="Compute NAME(P||Q) by adaptive quadrature. P and Q are density specs, e.g. "
                                   "'normal(0,1)' or 'mixture(normal(-2,0.5),normal(1,0.8);0.3,0.7)'.")
    p.add_argument("name", help="kl, reverse_kl, js, pearson_chi2, neyman_chi2, hellinger2, tv, triangular, w1")
    p.add_argument("p", help="density spec of P")
    p.add_argument("q", help="density spec of Q")
    p.add_argument("--atol", type=_POSITIVE, default=None,
                   help="absolute tolerance > 0 (default: 1e-9 in 1-D, 1e-6 in 2-D)")
    p.add_argument("--json", action="store_true", help="machine-readable output (standard JSON: non-finite -> null, "
                                                       "listed in \"nonfinite\")")


def _run_divergence(args) -> int:
    from .. import divergences

    fn = divergences.by_name(args.name)
    P, Q = _density_arg(args.p, "p"), _density_arg(args.q, "q")
    kw = {} if args.atol is None else {"atol": args.atol}
    import warnings

    with warnings.catch_warnings(record=True) as caught:  # quadrature short of --atol: one plain note, no source line
        warnings.simplefilter("always", RuntimeWarning)
        est = fn(P, Q, **kw)
    for w in caught:
        print(f"note: {w.message}", file=sys.stderr)
    if args.json:
        _print_json({"name": args.name, "p": P.spec, "q": Q.spec, "value": est.value, "abserr": est.abserr})
    else:
        print(f"{args.name}({P.spec} || {Q.spec}) = {est.value:.12g}  (abserr <= {est.abserr:.2g})")
    return 0


def _add_bounds(sub) -> None:
    p = sub.add_parser("bounds", help="non-parametric LS-GAN (Loss-Sensitive GAN): exact LP and cone bounds L-, L+",
                       description="Sample n real points from --real and m generated points from --fake, solve the "
                                   "LS-GAN linear program over all kappa-Lipschitz losses exactly (THEORY.md §5) and "
                                   "report S*_{n,m}, the loss values and the active hinge pairs.")
    p.add_argument("--real", required=True, help="density spec of the data, e.g. 'normal(0,1)'")
    p.add_argument("--fake", required=True, help="density spec of the generator, e.g. 'normal(2,1)'")
    p.add_argument("-n", type=_int_type(1), required=True, help="number of real samples")
    p.add_argument("-m", type=_int_type(1), required=True, help="number of generated samples")
    p.add_argument("--lam", type=_POSITIVE, required=True, help="lambda > 0, weight of the hinge term")
    p.add_argument("--kappa", type=_POSITIVE, required=True, help="kappa > 0, Lipschitz constant w.r.t. the margin")
    p.add_argument("--margin-kind", choices=["l1", "l2"], default="l1", help="norm of the margin (default l1)")
    p.add_argument("--tau", type=_POSITIVE, default=1.0, help="margin scale tau in Delta = tau*||x - y|| (default 1)")
    p.add_argument("--seed", type=_int_type(0), default=0, help="seed of the sample draws")
    p.add_argument("--json", action="store_true", help="machine-readable output (includes points and l; standard "
                                                       "JSON, non-finite -> null)")
    p.add_argument("--plot", type=Path, default=None, help="write a figure (PNG + PDF) with this path stem")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


def _bounds_progress(info: dict) -> None:
    """One stderr line per trust-region round of the LP solver (coarse levels indented)."""
    print(f"bounds: {'  ' * info['level']}n={info['n']} m={info['m']} round {info['round']}: "
          f"{info['explicit_pairs']} explicit pairs, S = {info['objective']:.12g} (upper bound on S*), "
          f"{info['box_hits']} values on their box, {info['seconds']:.1f} s", file=sys.stderr, flush=True)


def _run_bounds(args) -> int:
    import numpy as np

    from .. import nonparametric

    for name in ("n", "m"):
        if getattr(args, name) < 1:
            raise ValueError(f"-{name} = {getattr(args, name)}: must be >= 1")
    P, Q = _density_arg(args.real, "--real"), _density_arg(args.fake, "--fake")
    if P.dim != Q.dim:
        raise ValueError(f"--real/--fake: dimension mismatch, {P.spec} has d = {P.dim}, {Q.spec} has d = {Q.dim}")
    # refuse before sampling (the LP's own check comes after the n + m draws)
    need = nonparametric.estimate_memory(args.n, args.m, P.dim) + 16 * (args.n + args.m) * P.dim
    from .. import resources

    limit = resources.available_memory() // 2
    if need > limit:
        raise ValueError(f"-n/-m: n = {args.n}, m = {args.m} need about {need / 2**30:.3g} GiB for the samples and "
                         f"{args.n * args.m} hinge pairs, more than half the available memory "
                         f"({limit / 2**30:.3g} GiB); use fewer points")
    if args.plot is not None:  # check where the figure goes before the solve
        _writable_dir(args.plot.parent, "--plot")
        for suffix in (".png", ".pdf"):
            f = args.plot.with_suffix(suffix)
            if f.exists() and not f.is_file():
                raise ValueError(f"--plot: {str(f)!r} exists and is not a file")
    rng = np.random.default_rng(args.seed)
    real, fake = P.sample(args.n, rng), Q.sample(args.m, rng)
    try:
        sol = nonparametric.solve(real, fake, args.lam, args.kappa, args.margin_kind, tau=args.tau,
                                  progress=None if args.quiet else _bounds_progress)
    except RuntimeError as exc:  # HiGHS refusing coefficients beyond its range (about 1e20) on extreme input
        raise ValueError(f"--lam/--kappa/--tau/--real/--fake: the LP solver failed on this input "
                         f"({' '.join(str(exc).split())}); use moderate values (kappa*tau*|x - y| and lambda far "
                         f"below 1e20)") from None
    frac = float(sol.active.mean())
    figs = []
    if args.plot is not None:
        from ..plots import np_bounds_figure

        figs = np_bounds_figure(sol, real, fake, args.plot)
    if args.json:
        _print_json({"real_spec": P.spec, "fake_spec": Q.spec, "n": args.n, "m": args.m, "lam": args.lam,
                     "kappa": args.kappa, "margin_kind": args.margin_kind, "tau": args.tau, "seed": args.seed,
                     "version": __version__, "objective": sol.objective, "active_fraction": frac,
                     "real": real, "fake": fake, "l": sol.l, "active_pairs": sol.active_pairs,
                     "stats": sol.stats, "figures": figs})
    else:
        print(f"S*_{{n,m}} = {sol.objective:.12g}  (n = {args.n} from {P.spec}, m = {args.m} from {Q.spec}, "
              f"lambda = {args.lam:g}, kappa = {args.kappa:g}, margin {args.margin_kind} x tau {args.tau:g}, "
              f"seed {args.seed})")
        print(f"l* on real points: min {sol.l_real.min():.6g}, mean {sol.l_real.mean():.6g}, max {sol.l_real.max():.6g}")
        print(f"l* on generated:   min {sol.l_fake.min():.6g}, mean {sol.l_fake.mean():.6g}, max {sol.l_fake.max():.6g}")
        print(f"active hinge pairs: {int(sol.active.sum())} of {args.n * args.m} ({100 * frac:.1f} %); "
              f"solver: {sol.stats['rounds']} rounds, {sol.stats['explicit_pairs']} explicit pairs (largest box LP), "
              f"{sol.stats['seconds']:.2f} s")
        for f in figs:
            print(f"figure: {f}")
    return 0

