"""``lsgan-theory derive`` (sympy derivations), ``analyse`` (a loss from formulas, end to end) and ``prove`` (the
machine-checked proofs): the symbolic subcommands."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..output import write_text
from .common import _density_arg, _int_type, _print_json, _to_json, _writable_dir


def _add_derive(sub) -> None:
    p = sub.add_parser("derive", help="derive D*, the value at D* and the divergence a GAN loss minimises (sympy)",
                       description="Symbolic derivation with every step. FAMILY: gan, non_saturating, least_squares, "
                                   "hinge, or an f-GAN row (kl, reverse_kl, pearson_chi2, neyman_chi2, hellinger2, "
                                   "js, fgan_gan, tv), or custom with --real/--fake formulas in D. "
                                   "LSGAN = Least-Squares GAN (not the Loss-Sensitive LS-GAN).")
    p.add_argument("family")
    p.add_argument("--real", default=None, help="custom: the discriminator's per-sample term on real points, in D "
                                                "(e.g. 'log(D)')")
    p.add_argument("--fake", default=None, help="custom: its term on generated points (e.g. 'log(1 - D)')")
    p.add_argument("--sense", default="max", choices=("max", "min"),
                   help="custom: the discriminator maximises (default) or minimises p·real(D) + q·fake(D)")
    p.add_argument("--generator", default=None, help="custom: the generator's per-sample term on generated points "
                                                     "(default: the zero-sum game)")
    p.add_argument("--generator-real", default=None, help="custom: a G-free analysis term on real points added to "
                                                          "the value (Mao et al. add ½E_p(D − c)²)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="custom: a parameter of the formulas (repeatable); NAME alone or NAME= leaves it symbolic")
    for k, role in (("a", "label of fakes"), ("b", "label of reals"), ("c", "value G wants D to output")):
        p.add_argument(f"--{k}", default=None, help=f"least_squares: {role} (a number or expression; symbolic if "
                                                    "omitted)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--json", action="store_true", help="machine-readable output (standard JSON)")
    g.add_argument("--latex", action="store_true", help="the steps as LaTeX")


def _run_derive(args) -> int:
    from ..symbolic import SymbolicTimeout, derive, derive_custom

    params = {k: getattr(args, k) for k in "abc" if getattr(args, k) is not None}
    custom = args.family == "custom"
    used = [f"--{k.replace('_', '-')}" for k in ("real", "fake", "generator", "generator_real")
            if getattr(args, k) is not None] + (["--param"] if args.param else []) + \
        (["--sense"] if args.sense != "max" else [])
    if not custom and used:
        raise ValueError(f"{used[0]}: only for 'derive custom', not for family {args.family!r}")
    if custom and params:
        raise ValueError(f"--{sorted(params)[0]}: not for 'derive custom'; declare parameters with --param NAME=VALUE")
    try:
        if custom:
            for k in ("real", "fake"):
                if getattr(args, k) is None:
                    raise ValueError(f"--{k}: required for 'derive custom' (an expression in D)")
            cparams = {}
            for item in args.param:
                name, eq, value = item.partition("=")
                if not name.strip():
                    raise ValueError(f"--param: expected NAME=VALUE (or NAME for a symbolic parameter), got {item!r}")
                cparams[name.strip()] = value.strip() if eq and value.strip() else None
            d = derive_custom(args.real, args.fake, sense=args.sense, generator=args.generator, params=cparams,
                              generator_real=args.generator_real)
        else:
            d = derive(args.family, **params)
    except SymbolicTimeout as exc:
        raise ValueError(str(exc)) from None
    if args.json:
        _print_json(json.loads(d.to_json()))
    elif args.latex:
        print(d.latex())
    else:
        print(d.plain())
    return 0


def _add_analyse(sub) -> None:
    p = sub.add_parser("analyse", help="a loss from formulas, end to end: derivation, ground truth, a short "
                                       "ensemble run, into a report folder",
                       description="Derive D*, the value at D* and its divergence for a loss given by formulas in D "
                                   "(as 'derive custom'), check the value by quadrature on the density pair "
                                   "--p/--q, train discriminators against the fixed q and compare them with D*, "
                                   "train a small ensemble of generators on p with the loss; write summary.md, "
                                   "summary.json and figures (PNG, PDF) to --out. Seconds with the defaults.")
    p.add_argument("--real", required=True, help="the discriminator's per-sample term on real points, in D")
    p.add_argument("--fake", required=True, help="its term on generated points")
    p.add_argument("--sense", default="max", choices=("max", "min"),
                   help="the discriminator maximises (default) or minimises E_p real(D) + E_q fake(D)")
    p.add_argument("--generator", default=None, help="the generator's per-sample term (default: zero-sum)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="a parameter of the formulas with its value (repeatable)")
    p.add_argument("--p", default="normal(0,1)", help="data density (1-D spec; default normal(0,1))")
    p.add_argument("--q", default="normal(1.5,1)", help="generator density of the ground truth and the critic "
                                                        "check (default normal(1.5,1))")
    p.add_argument("--models", type=_int_type(2, 64), default=4, help="ensemble size (default 4)")
    p.add_argument("--steps", type=_int_type(1, 100_000), default=200, help="training steps (default 200)")
    p.add_argument("--seed", type=_int_type(0, 2**32 - 1), default=0,
                   help="root seed of every random stream (data, initialisation, sampling)")
    p.add_argument("--out", type=Path, default=Path("analysis"), help="report folder (default ./analysis)")
    p.add_argument("--json", action="store_true", help="print summary.json to stdout")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


def _run_analyse(args) -> int:
    from .._claims.analysis import analysis_report
    from ..studies.loss_analysis import analyse_loss
    from ..symbolic import SymbolicTimeout

    params = {}
    for item in args.param:
        name, eq, value = item.partition("=")
        if not name.strip() or not eq or not value.strip():
            raise ValueError(f"--param: expected NAME=VALUE with a number, got {item!r}")
        params[name.strip()] = value.strip()
    if args.out.exists() and not args.out.is_dir():
        raise ValueError(f"--out: {str(args.out)!r} exists and is not a folder")
    _density_arg(args.p, "--p"), _density_arg(args.q, "--q")
    try:
        res = analyse_loss(args.real, args.fake, args.sense, args.generator, params or None, args.p, args.q,
                           n_models=args.models, steps=args.steps, seed=args.seed, device="cpu",
                           progress=None if args.quiet else
                           lambda line: print(f"analyse: {line}", file=sys.stderr, flush=True))
    except SymbolicTimeout as exc:
        raise ValueError(str(exc)) from None
    _writable_dir(args.out, "--out")
    data = analysis_report(res, args.out)
    if args.json:
        print(_to_json(data))
    else:
        print(f"analysis: {args.out / 'summary.md'}")
    return 0


def _add_prove(sub) -> None:
    p = sub.add_parser("prove", help="machine-check every proof in proofs/ and render them",
                       description="Check every ```check step of the Markdown proofs with sympy; exit 1 if any fails.")
    p.add_argument("--dir", type=Path, default=None, help="proofs folder (default: the proofs shipped with the package)")
    p.add_argument("--out", type=Path, default=None, help="write the rendered proofs (Markdown, and .tex with --latex)")
    p.add_argument("--latex", action="store_true", help="also render LaTeX")
    p.add_argument("--json", action="store_true", help="machine-readable verdicts (standard JSON)")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


def _run_prove(args) -> int:
    from ..symbolic.proofcheck import check_all, format_report, render_latex, render_markdown

    if args.dir is not None:
        if not args.dir.exists():
            raise ValueError(f"--dir: {str(args.dir)!r} does not exist")
        if not args.dir.is_dir():
            raise ValueError(f"--dir: {str(args.dir)!r} is not a folder")
        if not [f for f in args.dir.glob("*.md") if f.name.lower() != "readme.md"]:
            raise ValueError(f"--dir: no proofs in {str(args.dir)!r} (expected *.md files other than README.md); "
                             f"nothing to check")
    if args.out is not None:
        _writable_dir(args.out, "--out")
    results = check_all(args.dir, progress=None if args.quiet else
                        lambda line: print(f"prove: {line}", file=sys.stderr, flush=True))
    if not results:
        raise ValueError("--dir: no proofs found; nothing to check")
    if args.out is not None:
        for r in results:
            src = Path(r.path)
            write_text(args.out / src.name, render_markdown(src, r), what="--out")
            if args.latex:
                write_text(args.out / src.with_suffix(".tex").name, render_latex(src, r), what="--out")
    if args.json:
        _print_json([{"proof": r.path, "passed": r.passed, "steps": r.n_steps, "error": r.error,
                      "theorems": [{"id": t.ident, "title": t.title, "source": t.source, "passed": t.passed,
                                    "steps": t.n_steps, "conclusions": t.conclusions, "uses_paper": t.uses_paper,
                                    "registered": t.registered} for t in r.theorems],
                      "failed": [{"line": c.line, "step": c.source, "message": c.message}
                                 for c in r.checks if not c.passed]} for r in results])
    else:
        print(format_report(results))
        if args.latex and args.out is None:
            for r in results:
                print(render_latex(Path(r.path), r))
    return 0 if all(r.passed for r in results) else 1

