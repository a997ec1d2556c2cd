"""The ``lsgan-theory`` command line.

Every subcommand is a pair ``_add_<name>(sub)`` (argument parser) and ``_run_<name>(args)`` (the work, returning
an exit status).  Bad input (``ValueError``/``TypeError`` from the package, or a bad flag) prints one line on stderr
and exits with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from . import __version__


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def _print_json(obj) -> None:
    print(json.dumps(obj, indent=2, default=_json_default))


def _json_default(o):
    import numpy as np

    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    return str(o)


# ---------------------------------------------------------------------------------------------------- divergence
def _add_divergence(sub) -> None:
    p = sub.add_parser("divergence", help="a divergence between two densities, by quadrature with its error bound",
                       description="Compute NAME(P||Q) by adaptive quadrature. P and Q are density specs, e.g. "
                                   "'normal(0,1)' or 'mixture(normal(-2,0.5),normal(1,0.8);0.3,0.7)'.")
    p.add_argument("name", help="kl, reverse_kl, js, pearson_chi2, neyman_chi2, hellinger2, tv, triangular, w1")
    p.add_argument("p", help="density spec of P")
    p.add_argument("q", help="density spec of Q")
    p.add_argument("--atol", type=float, default=None, help="absolute tolerance (default: 1e-9 in 1-D, 1e-6 in 2-D)")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def _run_divergence(args) -> int:
    from . import densities, divergences

    fn = divergences.by_name(args.name)
    P, Q = densities.parse(args.p), densities.parse(args.q)
    kw = {} if args.atol is None else {"atol": args.atol}
    est = fn(P, Q, **kw)
    if args.json:
        _print_json({"name": args.name, "p": P.spec, "q": Q.spec, "value": est.value, "abserr": est.abserr})
    else:
        print(f"{args.name}({P.spec} || {Q.spec}) = {est.value:.12g}  (abserr <= {est.abserr:.2g})")
    return 0


# ---------------------------------------------------------------------------------------------------- verify
def _add_verify(sub) -> None:
    p = sub.add_parser("verify", help="check every claim of THEORY.md and write a report folder")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", dest="quick", action="store_true", default=True, help="the quick default (minutes)")
    g.add_argument("--full", dest="quick", action="store_false", help="every claim, including long sweeps")
    p.add_argument("--out", type=Path, default=Path("report"), help="report folder (default: ./report)")
    p.add_argument("--only", nargs="*", default=None, help="claim ids to run")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print the verdicts as JSON")


def _run_verify(args) -> int:
    from dataclasses import asdict

    from .claims import Context, run_claims, write_report

    ctx = Context(out=args.out, quick=args.quick, seed=args.seed)
    ids = list(_registry_ids())
    done = [0]

    def progress(cid: str) -> None:
        done[0] += 1
        if not args.json:
            print(f"[{done[0]}/{len(ids)}] {cid}", file=sys.stderr, flush=True)

    verdicts = run_claims(ctx, only=args.only, progress=progress)
    path = write_report(verdicts, ctx)
    if args.json:
        _print_json({"report": path, "claims": [asdict(v) for v in verdicts]})
    else:
        for v in verdicts:
            print(f"{v.status:8s} {v.id:40s} {v.ref}")
        print(f"report: {path}")
    return 0 if all(v.status in ("pass", "skipped") for v in verdicts) else 1


def _registry_ids():
    from .claims import registry

    return registry().keys()


# ---------------------------------------------------------------------------------------------------- derive, prove
def _add_derive(sub) -> None:
    p = sub.add_parser("derive", help="derive D*, the value at D* and the divergence a GAN loss minimises (sympy)",
                       description="Symbolic derivation with every step. FAMILY: gan, non_saturating, least_squares, "
                                   "hinge, or an f-GAN row (kl, reverse_kl, pearson_chi2, neyman_chi2, hellinger2, "
                                   "js, fgan_gan, tv). LSGAN = Least-Squares GAN (not the Loss-Sensitive LS-GAN).")
    p.add_argument("family")
    for k, role in (("a", "label of fakes"), ("b", "label of reals"), ("c", "value G wants D to output")):
        p.add_argument(f"--{k}", default=None, help=f"least_squares: {role} (a number or expression; symbolic if "
                                                    "omitted)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--json", action="store_true", help="machine-readable output")
    g.add_argument("--latex", action="store_true", help="the steps as LaTeX")


def _run_derive(args) -> int:
    from .symbolic import SymbolicTimeout, derive

    params = {k: getattr(args, k) for k in "abc" if getattr(args, k) is not None}
    try:
        d = derive(args.family, **params)
    except SymbolicTimeout as exc:
        print(f"lsgan-theory derive: error: {exc}", file=sys.stderr)
        return 3
    if args.json:
        print(d.to_json())
    elif args.latex:
        print(d.latex())
    else:
        print(d.plain())
    return 0


def _add_prove(sub) -> None:
    p = sub.add_parser("prove", help="machine-check every proof in proofs/ and render them",
                       description="Check every ```check step of the Markdown proofs with sympy; exit 1 if any fails.")
    p.add_argument("--dir", type=Path, default=None, help="proofs folder (default: the proofs shipped with the package)")
    p.add_argument("--out", type=Path, default=None, help="write the rendered proofs (Markdown, and .tex with --latex)")
    p.add_argument("--latex", action="store_true", help="also render LaTeX")
    p.add_argument("--json", action="store_true", help="machine-readable verdicts")


def _run_prove(args) -> int:
    from .symbolic.proofcheck import check_all, render_latex, render_markdown

    results = check_all(args.dir)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        for r in results:
            src = Path(r.path)
            (args.out / src.name).write_text(render_markdown(src, r), encoding="utf-8")
            if args.latex:
                (args.out / src.with_suffix(".tex").name).write_text(render_latex(src, r), encoding="utf-8")
    if args.json:
        _print_json([{"proof": r.path, "passed": r.passed, "steps": len(r.checks), "error": r.error,
                      "failed": [{"line": c.line, "step": c.source, "message": c.message}
                                 for c in r.checks if not c.passed]} for r in results])
    else:
        for r in results:
            status = "ok  " if r.passed else "FAIL"
            print(f"{status} {Path(r.path).name:28s} {len(r.checks):3d} steps" + (f"  {r.error}" if r.error else ""))
            for c in r.checks:
                if not c.passed:
                    print(f"     line {c.line}: {c.source}\n       {c.message}")
        if args.latex and args.out is None:
            for r in results:
                print(render_latex(Path(r.path), r))
    return 0 if all(r.passed for r in results) else 1


# ---------------------------------------------------------------------------------------------------- train
def _add_train(sub) -> None:
    p = sub.add_parser("train", help="train one configuration or a small grid of GANs as one batched ensemble",
                       description="Train every combination of the listed per-model values (x --seeds replicas) as "
                                   "one batched ensemble (CPU or CUDA) and write results.csv, curves.csv, meta.json "
                                   "and training-curve figures to --out. Family names: loss_sensitive = LS-GAN "
                                   "(Qi), least_squares = LSGAN (Mao), gan, gan_ns, hinge, wgan, glsgan.")
    p.add_argument("--target", default="normal(0,1)", help="data density spec, e.g. 'normal(0,1)' or 'ring(8,1,0.01)'")
    p.add_argument("--family", nargs="+", default=["loss_sensitive"])
    for name, default in (("lam", [1.0]), ("nu", [0.0]), ("margin-scale", [1.0]), ("lr-d", [1e-3]), ("lr-g", [1e-3]),
                          ("gp-weight", [0.0]), ("clip", [0.0])):
        p.add_argument(f"--{name}", nargs="+", type=float, default=default)
    p.add_argument("--n-data", nargs="+", type=int, default=[4096], help="data-set size m per model")
    p.add_argument("--seeds", type=int, default=1, help="replicas of each grid point (independent streams)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--width", type=int, default=64, help="hidden width of both MLPs (two hidden layers)")
    p.add_argument("--noise-dim", type=int, default=1)
    p.add_argument("--activation", default="relu")
    p.add_argument("--optimizer", default="adam", choices=["adam", "rmsprop", "sgd"])
    p.add_argument("--n-critic", type=int, default=1)
    p.add_argument("--spectral-norm", action="store_true")
    p.add_argument("--device", default="auto", help="auto (CUDA when available), cpu, cuda, cuda:N")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    p.add_argument("--eval-samples", type=int, default=2000)
    p.add_argument("--out", type=Path, default=Path("runs/train"))
    p.add_argument("--checkpoint-every", type=int, default=None,
                   help="steps between checkpoints in OUT/checkpoint.pt (default ~5%% of --steps); a rerun with the "
                        "same arguments resumes an interrupted run")
    p.add_argument("--restart", action="store_true", help="ignore (delete) an existing checkpoint in --out")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.add_argument("--json", action="store_true", help="print the results table as JSON")


def _run_train(args) -> int:
    from .plots import training_curves_figure
    from .studies.runs import grid_config, run_and_write

    grid = {"family": args.family, "lam": args.lam, "nu": args.nu, "margin_scale": args.margin_scale,
            "lr_d": args.lr_d, "lr_g": args.lr_g, "gp_weight": args.gp_weight, "clip": args.clip,
            "n_data": args.n_data}
    cfg, rows = grid_config(grid, seeds=args.seeds, target=args.target, seed=args.seed, steps=args.steps,
                            batch=args.batch, g_hidden=(args.width, args.width), d_hidden=(args.width, args.width),
                            noise_dim=args.noise_dim, activation=args.activation, optimizer=args.optimizer,
                            n_critic=args.n_critic, spectral_norm=args.spectral_norm, device=args.device,
                            dtype=args.dtype, record_every=max(1, args.steps // 200))
    if args.checkpoint_every is not None and args.checkpoint_every < 1:
        raise ValueError(f"--checkpoint-every: must be >= 1, got {args.checkpoint_every}")
    ck = args.out / "checkpoint.pt"
    if ck.exists() and not args.restart and not args.quiet:
        import torch

        done = torch.load(ck, map_location="cpu", weights_only=True).get("step", -1) + 1
        print(f"train: resuming from {ck} ({done}/{args.steps} steps done)", file=sys.stderr)
    summary = run_and_write(cfg, rows, args.out, n_eval=args.eval_samples, checkpoint_every=args.checkpoint_every,
                            resume=not args.restart, callback=None if args.quiet else _train_progress(cfg))
    res = summary.pop("result")
    labels = [", ".join(f"{k}={v}" for k, v in g.items()) for g in rows]
    figs = training_curves_figure(res.steps, res.loss_d, res.loss_g, labels, args.out / "training_curves",
                                  title=f"{cfg.target}: {cfg.n_models} model(s), {cfg.steps} steps")
    summary["figures"] = [str(f) for f in figs]
    if args.json:
        _print_json(summary)
    else:
        varying = [k for k, v in grid.items() if len(v) > 1] + (["replica"] if args.seeds > 1 else [])
        metric = [k for k in ("w1", "ks", "l1", "l1_noise_floor", "mmd2", "modes", "high_quality", "reverse_kl")
                  if k in summary["results"][0]]
        print("  ".join(["model"] + varying + ["diverged"] + metric))
        for r in summary["results"]:
            print("  ".join([str(r["model"])] + [str(r[k]) for k in varying] + [str(r["diverged_step"] >= 0)]
                            + [f"{r[k]:.4g}" for k in metric]))
        print(f"results: {args.out / 'results.csv'}  ({summary['meta']['seconds']:.1f} s on {summary['meta']['device']})")
    return 0


def _train_progress(cfg):
    """stderr progress every ~5 % of the run: step, elapsed time, ETA, frozen (diverged) models."""
    t0 = time.perf_counter()
    every = max(1, cfg.steps // 20)
    state = {"first": None, "next": 0}

    def cb(step, loss_d, loss_g, active):
        if state["first"] is None:
            state["first"] = state["next"] = step
        if step < state["next"] and step != cfg.steps - 1:
            return
        state["next"] = step + every
        done = step + 1 - state["first"]
        el = time.perf_counter() - t0
        eta = el / max(done, 1) * (cfg.steps - step - 1)
        frozen = int((~active).sum())
        print(f"train: step {step + 1}/{cfg.steps} ({100 * (step + 1) / cfg.steps:.0f} %), {el:.1f} s, "
              f"ETA {eta:.0f} s, {frozen}/{cfg.n_models} frozen", file=sys.stderr, flush=True)

    return cb


# ---------------------------------------------------------------------------------------------------- bounds
def _add_bounds(sub) -> None:
    p = sub.add_parser("bounds", help="non-parametric LS-GAN (Loss-Sensitive GAN): exact LP and cone bounds L-, L+",
                       description="Sample n real points from --real and m generated points from --fake, solve the "
                                   "LS-GAN linear program over all kappa-Lipschitz losses exactly (THEORY.md §5) and "
                                   "report S*_{n,m}, the loss values and the active hinge pairs.")
    p.add_argument("--real", required=True, help="density spec of the data, e.g. 'normal(0,1)'")
    p.add_argument("--fake", required=True, help="density spec of the generator, e.g. 'normal(2,1)'")
    p.add_argument("-n", type=int, required=True, help="number of real samples")
    p.add_argument("-m", type=int, required=True, help="number of generated samples")
    p.add_argument("--lam", type=float, required=True, help="lambda > 0, weight of the hinge term")
    p.add_argument("--kappa", type=float, required=True, help="kappa > 0, Lipschitz constant w.r.t. the margin")
    p.add_argument("--margin", choices=["l1", "l2"], default="l1", help="norm of the margin (default l1)")
    p.add_argument("--scale", type=float, default=1.0, help="margin scale tau in Delta = tau*||x - y|| (default 1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="machine-readable output (includes points and l)")
    p.add_argument("--plot", type=Path, default=None, help="write a figure (PNG + PDF) with this path stem")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


def _bounds_progress(info: dict) -> None:
    """One stderr line per trust-region round of the LP solver (coarse levels indented)."""
    print(f"bounds: {'  ' * info['level']}n={info['n']} m={info['m']} round {info['round']}: "
          f"{info['explicit_pairs']} explicit pairs, S = {info['objective']:.12g} (upper bound on S*), "
          f"{info['box_hits']} values on their box, {info['seconds']:.1f} s", file=sys.stderr, flush=True)


def _run_bounds(args) -> int:
    import numpy as np

    from . import densities, nonparametric

    for name in ("n", "m"):
        if getattr(args, name) < 1:
            raise ValueError(f"-{name} = {getattr(args, name)}: must be >= 1")
    P, Q = densities.parse(args.real), densities.parse(args.fake)
    if P.dim != Q.dim:
        raise ValueError(f"--real/--fake: dimension mismatch, {P.spec} has d = {P.dim}, {Q.spec} has d = {Q.dim}")
    rng = np.random.default_rng(args.seed)
    real, fake = P.sample(args.n, rng), Q.sample(args.m, rng)
    sol = nonparametric.solve(real, fake, args.lam, args.kappa, args.margin, scale=args.scale,
                              progress=None if args.quiet else _bounds_progress)
    frac = float(sol.active.mean())
    figs = []
    if args.plot is not None:
        from . import plots

        if P.dim == 1:
            lo, hi = min(real.min(), fake.min()), max(real.max(), fake.max())
            pad = 0.15 * (hi - lo + 1e-9)
            x = np.linspace(lo - pad, hi + pad, 801)
            figs = plots.np_bounds_1d_figure(x, sol.lower(x), sol.upper(x), real, fake, args.kappa, args.plot)
        else:
            pts = sol.points
            lo, hi = pts.min(0), pts.max(0)
            pad = 0.15 * (hi - lo + 1e-9)
            X, Y = np.meshgrid(np.linspace(lo[0] - pad[0], hi[0] + pad[0], 121),
                               np.linspace(lo[1] - pad[1], hi[1] + pad[1], 121))
            XY = np.stack([X, Y], -1)
            figs = plots.np_bounds_2d_figure(X, Y, sol.lower(XY), sol.upper(XY), real, fake, args.kappa, args.plot)
    if args.json:
        _print_json({"real_spec": P.spec, "fake_spec": Q.spec, "n": args.n, "m": args.m, "lam": args.lam,
                     "kappa": args.kappa, "margin": args.margin, "scale": args.scale, "seed": args.seed,
                     "version": __version__, "objective": sol.objective, "active_fraction": frac,
                     "real": real, "fake": fake, "l": sol.l, "active_pairs": sol.active_pairs,
                     "stats": sol.stats, "figures": figs})
    else:
        print(f"S*_{{n,m}} = {sol.objective:.12g}  (n = {args.n} from {P.spec}, m = {args.m} from {Q.spec}, "
              f"lambda = {args.lam:g}, kappa = {args.kappa:g}, margin {args.margin} x {args.scale:g}, seed {args.seed})")
        print(f"l* on real points: min {sol.l_real.min():.6g}, mean {sol.l_real.mean():.6g}, max {sol.l_real.max():.6g}")
        print(f"l* on generated:   min {sol.l_fake.min():.6g}, mean {sol.l_fake.mean():.6g}, max {sol.l_fake.max():.6g}")
        print(f"active hinge pairs: {int(sol.active.sum())} of {args.n * args.m} ({100 * frac:.1f} %); "
              f"solver: {sol.stats['rounds']} rounds, {sol.stats['explicit_pairs']} explicit pairs (largest box LP), "
              f"{sol.stats['seconds']:.2f} s")
        for f in figs:
            print(f"figure: {f}")
    return 0


# ---------------------------------------------------------------------------------------------------- main
_COMMANDS = ["divergence", "verify", "derive", "prove", "train", "bounds"]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="lsgan-theory", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"lsgan-theory {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in _COMMANDS:
        globals()[f"_add_{name}"](sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return globals()[f"_run_{args.command.replace('-', '_')}"](args)
    except (ValueError, TypeError) as exc:
        msg = " ".join(str(exc).split())
        print(f"lsgan-theory {args.command}: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"lsgan-theory {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
