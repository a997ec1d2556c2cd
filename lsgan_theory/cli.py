"""The ``lsgan-theory`` command line.

Every subcommand is a pair ``_add_<name>(sub)`` (argument parser) and ``_run_<name>(args)`` (the work, returning
an exit status).  Exit status: 0 success, 1 a check failed (``verify``, ``prove``), 2 bad input -- a bad flag or value,
a file-system error (unwritable ``--out``, an existing file where a folder is needed, a corrupt checkpoint), a size
that would not fit in memory, a sympy time limit -- always one line on stderr naming the argument or path, never a
traceback; 130 interrupted.

``--json`` output is standard JSON (RFC 8259): a non-finite number (NaN, ±inf) is written as ``null`` and its
JSON Pointer is listed, with the value as a string, in the top-level object ``"nonfinite"`` (e.g.
``{"value": null, ..., "nonfinite": {"/value": "Infinity"}}``; ``{}`` when every number is finite).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
from pathlib import Path

from . import __version__


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        # No prefix matching: a flag is spelled in full, so an old or partial spelling (--margin for --margin-kind)
        # is an error instead of a silent alias.
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str):  # one line, exit 2
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())}\n")

    def _parse_optional(self, arg_string):
        # A word with ONE leading minus that is not one of our options is a value, not a flag: formulas such as
        # `--real '-exp(-D)'` or `--real -D` (argparse alone reads them as unknown options: "expected one
        # argument").  Every option here is long (--name) except -h, so no flag is lost.
        if arg_string.startswith("-") and not arg_string.startswith("--") and len(arg_string) > 1 \
                and arg_string not in self._option_string_actions:
            return None
        return super()._parse_optional(arg_string)


# ---------------------------------------------------------------------------------------------------- argument types
def _int_type(lo: int | None = None, hi: int | None = None):
    """argparse type: a decimal integer in [lo, hi]; '1e8' or '2.0' are refused with a hint (one line)."""

    def integer(text: str) -> int:
        t = text.strip().replace("_", "")
        if re.fullmatch(r"[+-]?\d{41,}", t):
            raise argparse.ArgumentTypeError(f"integer out of range (more than 40 digits): {text[:20]}...")
        if len(t) > 40 or not re.fullmatch(r"[+-]?\d+", t):
            hint = ""
            try:
                f = float(t)
                if math.isfinite(f) and f.is_integer() and len(t) <= 40:
                    hint = f" (write it in digits: {int(f)})"
            except ValueError:
                pass
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}{hint}")
        v = int(t)
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            rng = f">= {lo}" if hi is None else (f"<= {hi}" if lo is None else f"in [{lo}, {hi}]")
            raise argparse.ArgumentTypeError(f"must be an integer {rng}, got {v}")
        return v

    return integer


def _float_type(lo: float | None = None, *, open_: bool = True):
    """argparse type: a finite number (> lo, or >= lo with ``open_=False``)."""

    def number(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(v):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
        if lo is not None and (v <= lo if open_ else v < lo):
            raise argparse.ArgumentTypeError(f"must be {'>' if open_ else '>='} {lo:g}, got {text!r}")
        return v

    return number


_POSITIVE = _float_type(0.0)
_FINITE = _float_type()


# ---------------------------------------------------------------------------------------------------- output
def _to_json(obj) -> str:
    """Standard JSON of ``obj`` (see the module docstring: non-finite numbers -> null, listed in "nonfinite"); the
    package's one JSON writer, :func:`lsgan_theory.output.dumps`."""
    from .output import dumps

    return dumps(obj)


def _print_json(obj) -> None:
    print(_to_json(obj))


def _writable_dir(path: Path, flag: str) -> None:
    """Create folder ``path`` (and parents) and make sure a file can be written there; ValueError naming ``flag``."""
    if path.exists() and not path.is_dir():
        raise ValueError(f"{flag}: {str(path)!r} exists and is not a folder")
    probe = path / f".write-test.tmp-{os.getpid()}"
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ValueError(f"{flag}: cannot write to {str(path)!r} ({_os_reason(exc)})") from None


def _os_reason(exc: OSError) -> str:
    where = f" {str(exc.filename)!r}" if exc.filename is not None and exc.filename != "" else ""
    where += f" -> {str(exc.filename2)!r}" if getattr(exc, "filename2", None) else ""
    return f"{exc.strerror or type(exc).__name__}{':' + where if where else ''} [{type(exc).__name__}]"


# ---------------------------------------------------------------------------------------------------- divergence
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


def _density_arg(spec: str, flag: str):
    """``densities.parse(spec)`` with a ValueError that names the flag and the spec the user typed."""
    from . import densities

    try:
        return densities.parse(spec)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{flag} {spec!r}: {exc}") from None


def _run_divergence(args) -> int:
    from . import divergences

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


# ---------------------------------------------------------------------------------------------------- verify
def _add_verify(sub) -> None:
    p = sub.add_parser("verify", help="check every claim of THEORY.md and write a report folder",
                       description="Run the claim checks and write report.html, report.md and claims.json to --out. "
                                   "--full first prints (stderr, one line) the expected duration on this device and "
                                   "its basis, and warns when no GPU is present.")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", dest="quick", action="store_true", default=True, help="the quick default (minutes)")
    g.add_argument("--full", dest="quick", action="store_false", help="every claim, including long sweeps")
    p.add_argument("--out", type=Path, default=Path("report"), help="report folder (default: ./report)")
    p.add_argument("--only", nargs="+", default=None, help="claim ids to run (an unknown id lists the valid ones)")
    p.add_argument("--seed", type=_int_type(0, 2**32 - 1), default=0,
                   help="root seed of every random stream (data, initialisation, sampling)")
    p.add_argument("--json", action="store_true", help="print the verdicts as standard JSON (non-finite -> null)")
    p.add_argument("--quiet", action="store_true", help="no progress bar on stderr")
    p.add_argument("--require-gpu", action="store_true", help="refuse (exit 2) on a machine without a CUDA GPU")


#: Cost of ``verify --full`` per claim, for the duration line: ``id -> (quick CPU seconds, full/quick factor)``.
#: Quick CPU seconds: process CPU time (all threads) of ``verify --quick`` measured on the 2-core development machine
#: (git c458fb7, 2026-11-29).  Factor: the ratio of the work each claim does in --full to --quick, from its sizes
#: (trained claims: models × steps; LPs: instances × (pairs)^1.5; the λ sweep: models × steps × a width factor), not
#: measured in --full; a full-only claim carries the CPU seconds of its study run at quick size and the factor to full.
#: ``tests/test_verify_cli.py`` checks that every registered claim has an entry.
_VERIFY_COST: dict[str, tuple[float, float]] = {
    "closed-forms-gaussian": (0.8, 1.0),
    "divergence-inequalities": (0.76, 10),  # n 20 → 200 random mixtures
    "symbolic-gan-jsd": (0.94, 1.0),
    "symbolic-least-squares-abc": (1.64, 1.0),
    "symbolic-hinge-tv": (0.12, 1.0),
    "symbolic-fgan-kl": (0.29, 1.0),
    "symbolic-fgan-reverse_kl": (0.28, 1.0),
    "symbolic-fgan-pearson_chi2": (0.29, 1.0),
    "symbolic-fgan-neyman_chi2": (0.96, 1.0),
    "symbolic-fgan-hellinger2": (1.01, 1.0),
    "symbolic-fgan-js": (2.39, 1.0),
    "symbolic-fgan-fgan_gan": (2.32, 1.0),
    "symbolic-fgan-tv": (0.52, 1.0),
    "symbolic-gls-costs": (0.38, 1.0),
    "symbolic-lemma4-theorem1": (1.03, 1.0),
    "symbolic-hinge-inactivity": (0.16, 1.0),
    "symbolic-figure-vanishing-gradient": (0.59, 1.0),
    "symbolic-figure-generator-loss": (0.59, 1.0),
    "losses-glsgan-reductions": (0.68, 1.0),
    "losses-glsgan-cost-admissible": (0.75, 1.0),
    "losses-hinge-inactivity": (0.01, 1.0),
    "losses-least-squares-tabular-dstar": (1.29, 1.0),
    "losses-gradient-penalty-per-sample": (0.05, 1.0),
    "nonparametric-lp-exact": (0.15, 7.5),  # instances 8 → 20 × (pairs n·m 289 → 600)^1.5
    "nonparametric-corollary1": (0.6, 1.0),
    "nonparametric-corollary2": (0.43, 2.5),  # instances 4 → 10
    "nonparametric-cone-slopes": (0.14, 1.0),
    "nonparametric-allocation": (0.7, 1.0),
    "nonparametric-allocation-generator": (11.25, 18),  # models × steps 3·800 → 8·3000, pairs (150 → 200)²
    "nonparametric-figure-1d": (2.14, 2.7),  # discriminator steps 1500 → 4000
    "nonparametric-figure-2d": (1.28, 1.0),
    # full only: its study at quick size; × (seeds 4 → 12) × (Σn² over the n ~16×)
    "nonparametric-generalisation": (4.99, 50.0),
    "optimal-critic-gan": (5.64, 20),  # models × steps 16·600 → 64·3000
    "optimal-critic-least_squares": (5.79, 20),  # models × steps 16·600 → 64·3000
    "optimal-critic-hinge": (6.32, 20),  # models × steps 16·600 → 64·3000
    "optimal-critic-loss_sensitive": (8.51, 16),  # models × steps 6·2000 → 32·6000
    # models 200 → 1400 (targets × regimes × λ × seeds) × steps 250 → 5000 × ~1.7 for width 16 → 32
    "theorem1-trained-lambda-sweep": (38.0, 240),
    "theorem1-sharp-bound-attained": (3.1, 1.0),  # exact; measured on the loaded 2-core machine (issue 29)
    # targets × λ × seeds × Σ budgets 5·3·3·375 → 5·6·5·8750 (×78), × ~4 for width 32 and 128 cells (issue 29)
    "theorem1-certified-equilibrium": (25.0, 310),
    "theorem1-verdict-controls": (0.5, 1.0),
    # targets × λ × seeds × rounds 5·2·1·60 → 5·6·2·120 (×12), × ~4 for 64/128 cells and the larger λ's LPs (issue 29)
    "theorem1-best-response-equilibrium": (13.0, 50),
    # label counts × seeds × steps 1·6·300 → 4·5·3000
    "clsgan-semi-supervised-digits": (20.6, 33),
    # λ × seeds × steps 2·4·400 → 5·5·20000, × ~4 for the wider networks
    "clsgan-theorem3": (7.0, 625),
    # models × steps 12·210 → 80·35000 (×1100), × ~17 per model-step (z ∈ R^256, batch 512, 128-wide nets)
    "modes-mao-ring": (18.0, 19000),
    # models × steps 12·140 → 320·400000 (×76000), × ~10 per model-step (400-wide BN G, 5-piece maxout D)
    "modes-pacgan-packing": (21.0, 760000),
    # sample complexity (measured at git 6e8e7b4 on the loaded 2-core machine, process CPU time); factors: models ×
    # steps quick → full, × the width factor (cost ∝ width² per model)
    "sample-complexity-critic-gap": (26.8, 7500),  # 48·400 → 720·10000, widths 8/64 → 8…512
    "sample-complexity-data-generalisation": (7.9, 1800),  # 15·600 → 400·20000, width 16 → 32
    "gls-family-trained": (31.2, 3600),  # 25·500 → 1120·20000, width 16 → 32; + the mirrored pairs (issue 32)
    "sample-complexity-mixture-2d": (7.9, 16000),  # 18·400 → 1280·30000, width 32 → 64
}


def _gpu_name() -> str | None:
    """The name of the first CUDA device, or None when torch sees none."""
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None


def _cpu_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _full_estimate(ids: list[str], out: Path) -> tuple[float, str]:
    """Expected CPU seconds of ``verify --full`` for ``ids`` and the basis, one phrase: the CPU seconds a previous
    ``claims.json`` in ``out`` recorded (× the claim's full/quick factor when that run was quick), else the cost table
    :data:`_VERIFY_COST`."""
    previous, prev_quick = {}, True
    try:
        doc = json.loads((out / "claims.json").read_text())
        prev_quick = bool(doc["meta"]["quick"])
        previous = {c["id"]: float(c["cpu_seconds"]) for c in doc["claims"]
                    if c.get("status") not in ("skipped", "error") and float(c.get("cpu_seconds") or 0) > 0}
    except (OSError, ValueError, KeyError, TypeError):
        pass
    total, n_prev, n_table, missing = 0.0, 0, 0, []
    for cid in ids:
        quick_s, factor = _VERIFY_COST.get(cid, (math.nan, math.nan))
        if cid in previous and (not prev_quick or math.isfinite(factor)):
            total += previous[cid] * (factor if prev_quick else 1.0)
            n_prev += 1
        elif math.isfinite(quick_s):
            total += quick_s * factor
            n_table += 1
        else:
            missing.append(cid)
    parts = []
    if n_prev:
        parts.append(f"{n_prev} claim(s) from the CPU seconds in {str(out / 'claims.json')!r} "
                     f"({'a quick run × full/quick factor' if prev_quick else 'a full run'})")
    if n_table:
        parts.append(f"{n_table} from the cost table (quick CPU seconds measured on a 2-core CPU × a full/quick "
                     "factor per claim)")
    if missing:
        parts.append(f"{len(missing)} without a cost entry, not counted ({', '.join(missing)})")
    return total, "; ".join(parts)


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else (f"{seconds / 60:.0f} min" if seconds < 7200
                                                      else f"{seconds / 3600:.1f} h")


def _run_verify(args) -> int:
    from dataclasses import asdict

    from tqdm import tqdm

    from .claims import STATUSES, Context, registry, run_claims, write_report

    claims = registry()
    ids = list(claims)
    if args.only:
        unknown = sorted(set(args.only) - set(ids))
        if unknown:
            raise ValueError(f"--only: unknown claim id(s) {', '.join(map(repr, unknown))}; valid ids: "
                             f"{' '.join(ids)}")
    _writable_dir(args.out, "--out")
    selected = [c for c in ids if not args.only or c in args.only]
    gpu = _gpu_name()
    if gpu is None and args.require_gpu:
        raise ValueError("--require-gpu: no CUDA GPU visible to torch on this machine (torch.cuda.is_available() is "
                         "False); run without --require-gpu to use the CPU")
    if not args.quick:
        cpu_s, basis = _full_estimate(selected, args.out)
        cores = _cpu_cores()
        where = f"a GPU ({gpu}) and {cores} CPU cores" if gpu else f"{cores} CPU cores, no GPU"
        gpu_note = "; CPU-measured, so an upper bound for the trained claims on the GPU" if gpu else ""
        print(f"lsgan-theory verify --full: expect about {_duration(cpu_s)} of CPU time for {len(selected)} "
              f"claim(s), {_duration(cpu_s / cores)}–{_duration(cpu_s)} wall on this device ({where}){gpu_note}; "
              f"basis: {basis}", file=sys.stderr, flush=True)
        if gpu is None:
            print("lsgan-theory verify: warning: no GPU visible to torch; --full runs its trained ensembles on the "
                  "CPU (use --require-gpu to refuse instead)", file=sys.stderr, flush=True)
    ctx = Context(out=args.out, quick=args.quick, seed=args.seed)
    to_run = [c for c in selected if not (claims[c].full_only and args.quick)]
    bar = tqdm(total=len(to_run), file=sys.stderr, disable=args.quiet, unit="claim", dynamic_ncols=True,
               bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}]")
    started = [0]

    def progress(cid: str) -> None:
        if started[0]:
            bar.update(1)
        started[0] += 1
        bar.set_description_str(cid)

    try:
        verdicts = run_claims(ctx, only=args.only, progress=progress)
        if started[0]:
            bar.update(1)
    finally:
        bar.close()
    path = write_report(verdicts, ctx)
    if args.json:
        _print_json({"report": path, "claims": [asdict(v) for v in verdicts]})
    else:
        for v in verdicts:
            print(f"{v.status:{max(map(len, STATUSES))}s} {v.id:40s} {v.ref}")
        print(f"report: {path}")
    return 0 if all(v.status in ("pass", "skipped") for v in verdicts) else 1


# ---------------------------------------------------------------------------------------------------- derive, prove
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
    from .symbolic import SymbolicTimeout, derive, derive_custom

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
    from .plots import optimal_critic_figure, training_curves_figure
    from .studies.loss_analysis import analyse_loss
    from .symbolic import SymbolicTimeout

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
    data = res.to_dict()
    data.update(version=__version__, git=_git_revision())
    c = res.critic
    figs = optimal_critic_figure(c.x, c.d_star, c.d_models, args.out / "critic",
                                 f"trained D vs derived D* (q fixed = {res.q}, p = {res.p})",
                                 caption=f"{c.n_models} discriminators of the loss trained against the fixed q; "
                                         f"measured ‖D̄ − D*‖ = {c.value_error:.3g}. {c.verdict.split(':')[0]}.")
    t = res.training
    figs += training_curves_figure(t.steps, t.loss_d, t.loss_g, ["custom"] * t.loss_d.shape[0],
                                   args.out / "training_curves", f"generators trained on {res.p} with the loss")
    d = res.derivation
    gt = data["ground_truth"]
    w1 = [m.get("w1") for m in res.metrics if m]
    lines = [f"# Analysis of a GAN loss from formulas (lsgan-theory {__version__})", "",
             f"- real term: `{args.real}`; fake term: `{args.fake}`; the discriminator {args.sense}imises; "
             f"generator term: `{args.generator or 'zero-sum'}`" + (f"; parameters {params}" if params else ""),
             "", "## Derivation", "", f"- D* = `{d.to_dict()['d_star']}`",
             f"- value at D* (integrand) = `{d.to_dict()['value_at_optimum']}`",
             f"- identified: {d.identity if d.named else d.named_title}; f(u) = `{d.to_dict()['f']}`",
             f"- proper (minimised exactly at q = p): {d.is_proper}; a divergence (also zero there): "
             f"{d.objective_is_divergence}",
             f"- generator gradient where D wins: saturating = {d.gradient.get('saturating')} "
             f"({d.gradient.get('parametrisation')} parametrisation)", "",
             "## Ground truth by quadrature", "",
             f"- p = {res.p}, q = {res.q}: ∫ value = {gt['integral_of_value']:.10g} ± {gt['integral_abserr']:.2g}; "
             f"reference ({gt['reference_is']}) = {gt['reference']:.10g} ± {gt['reference_abserr']:.2g}; "
             f"tolerance {gt['tolerance']:.2g}: {'agree' if gt['agrees'] else 'DISAGREE'}", "",
             "## Trained discriminators vs D*", "", f"- {c.verdict}", "",
             "## Short generator run", "",
             f"- {t.loss_d.shape[0]} generators, {args.steps} steps on p = {res.p}: diverged "
             f"{int(t.diverged.sum())}; W1 to p per model: "
             + ", ".join("n/a" if v is None else f"{v:.3g}" for v in w1), "",
             "## Figures", ""] + [f"- `{f.name}`" for f in figs if f.suffix == ".png"]
    (args.out / "summary.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    from .output import write_json

    write_json(args.out / "summary.json", data, what="--out")
    if args.json:
        print(_to_json(data))
    else:
        print(f"analysis: {args.out / 'summary.md'}")
    return 0


def _git_revision() -> str:
    from .provenance import git_revision
    return git_revision()


def _add_prove(sub) -> None:
    p = sub.add_parser("prove", help="machine-check every proof in proofs/ and render them",
                       description="Check every ```check step of the Markdown proofs with sympy; exit 1 if any fails.")
    p.add_argument("--dir", type=Path, default=None, help="proofs folder (default: the proofs shipped with the package)")
    p.add_argument("--out", type=Path, default=None, help="write the rendered proofs (Markdown, and .tex with --latex)")
    p.add_argument("--latex", action="store_true", help="also render LaTeX")
    p.add_argument("--json", action="store_true", help="machine-readable verdicts (standard JSON)")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


def _run_prove(args) -> int:
    from .symbolic.proofcheck import check_all, format_report, render_latex, render_markdown

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
            (args.out / src.name).write_text(render_markdown(src, r), encoding="utf-8")
            if args.latex:
                (args.out / src.with_suffix(".tex").name).write_text(render_latex(src, r), encoding="utf-8")
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


# ---------------------------------------------------------------------------------------------------- train
def _train_floats() -> tuple[tuple[str, str | None, str], ...]:
    """Per-model flags: (flag, registry parameter or None for options of any critic, help); the grid key is the flag
    with "_".  A family's own numbers come from its registry entry (lsgan_theory.families.Param)."""
    from .families import FAMILIES, TRAINABLE

    own = {}
    for f in TRAINABLE:
        for p in FAMILIES[f].parameters:
            if p.per_model:
                own.setdefault(p.name, (p, []))[1].append(f)
    return (*((n.replace("_", "-"), n, f"{p.meaning} ({', '.join(users)}; default {p.default:g})")
              for n, (p, users) in own.items()),
            ("lr-d", None, "default 1e-3"), ("lr-g", None, "default 1e-3"),
            ("gp-weight", None, "gradient-penalty weight (default 0)"),
            ("clip", None, "weight clip of the critic (default 0: off)"))


def _add_train(sub) -> None:
    p = sub.add_parser("train", help="train one configuration or a small grid of GANs as one batched ensemble",
                       description="Train every combination of the listed per-model values (x --seeds replicas) as "
                                   "one batched ensemble (CPU or CUDA) and write results.csv, curves.csv, meta.json "
                                   "and training-curve figures to --out. Family names: loss_sensitive = LS-GAN "
                                   "(Qi), least_squares = LSGAN (Mao), gan, gan_ns, hinge, wgan, glsgan. A family's "
                                   "own parameter (--lam, --tau: loss_sensitive; --nu, --tau: glsgan) given when no "
                                   "selected family uses it is refused; --gp-weight, --clip, --spectral-norm apply "
                                   "to every critic. Sizes that would not fit in memory are refused with the "
                                   "estimate before training.")
    p.add_argument("--target", default="normal(0,1)", help="data density spec, e.g. 'normal(0,1)' or 'ring(8,1,0.01)'")
    from .families import TRAINABLE

    p.add_argument("--family", nargs="+", default=["loss_sensitive"],
                   help="loss families (a grid axis): " + ", ".join(TRAINABLE))
    for flag, _, help_ in _train_floats():
        p.add_argument(f"--{flag}", dest=flag.replace("-", "_"), nargs="+", type=_FINITE, default=None, help=help_)
    p.add_argument("--n-data", nargs="+", type=_int_type(0), default=[4096],
                   help="data-set size per model (0: fresh target samples at every step, the population regime)")
    p.add_argument("--seeds", type=_int_type(1), default=1, help="replicas of each grid point (independent streams)")
    p.add_argument("--seed", type=_int_type(0, 2**32 - 1), default=0,
                   help="root seed of every random stream (data, initialisation, sampling)")
    p.add_argument("--steps", type=_int_type(1), default=1000, help="training steps")
    p.add_argument("--batch", type=_int_type(1), default=64, help="minibatch size of real and of generated points")
    p.add_argument("--width", type=_int_type(1), default=64, help="hidden width of both MLPs (two hidden layers)")
    p.add_argument("--noise-dim", type=_int_type(1), default=1, help="dimension of the generator's Gaussian noise")
    p.add_argument("--activation", default="relu", help="hidden activation: elu, leaky_relu, relu, softplus, tanh")
    p.add_argument("--optimizer", default="adam", choices=["adam", "rmsprop", "sgd"],
                   help="optimiser of both networks")
    p.add_argument("--n-critic", type=_int_type(1), default=1, help="critic steps per generator step")
    p.add_argument("--spectral-norm", action="store_true")
    p.add_argument("--device", default="auto", help="auto (CUDA when available), cpu, cuda, cuda:N")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"], help="floating-point type")
    p.add_argument("--eval-samples", type=_int_type(2), default=2000,
                   help="generated samples per model for the final metrics (default 2000)")
    p.add_argument("--out", type=Path, default=Path("runs/train"), help="output folder")
    p.add_argument("--checkpoint-every", type=_int_type(1), default=None,
                   help="steps between checkpoints in OUT/checkpoint.pt (default ~5%% of --steps); a rerun with the "
                        "same arguments resumes an interrupted run")
    p.add_argument("--restart", action="store_true",
                   help="start afresh: first move the previous results and checkpoint into OUT/.previous-<time>/")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.add_argument("--json", action="store_true", help="print the results table as standard JSON (non-finite -> "
                                                       "null, listed in \"nonfinite\")")


def _train_grid(args) -> dict:
    """The grid of per-model values; refuses a family parameter that no selected family uses (one line)."""
    from . import families

    fams = [families.canonical(f, argument="--family") for f in args.family]
    used = {p for f in fams for p, _ in families.get(f).params}
    grid = {"family": fams}
    for flag, param, _ in _train_floats():
        vals = getattr(args, flag.replace("-", "_"))
        if vals is None:
            continue
        if param is not None and param not in used:
            owners = [n for n, f in families.FAMILIES.items() if any(p == param for p, _ in f.params)]
            raise ValueError(f"--{flag}: not a parameter of --family {' '.join(fams)} (it would be ignored); "
                             f"{param} belongs to {', '.join(owners)}")
        grid[flag.replace("-", "_")] = vals
    grid["n_data"] = args.n_data
    return grid


def _run_train(args) -> int:
    from .plots import training_curves_figure
    from .studies.runs import grid_config, metric_names, run_and_write

    grid = _train_grid(args)
    if args.out.exists() and not args.out.is_dir():
        raise ValueError(f"--out: {str(args.out)!r} exists and is not a folder")
    cfg, rows = grid_config(grid, seeds=args.seeds, by_family=True, target=args.target, seed=args.seed, steps=args.steps,
                            batch=args.batch, g_hidden=(args.width, args.width), d_hidden=(args.width, args.width),
                            noise_dim=args.noise_dim, activation=args.activation, optimizer=args.optimizer,
                            n_critic=args.n_critic, spectral_norm=args.spectral_norm, device=args.device,
                            dtype=args.dtype, record_every=max(1, args.steps // 200))

    def announce(msg: str) -> None:
        if not args.quiet:
            print(f"train: {msg}", file=sys.stderr, flush=True)

    try:
        summary = run_and_write(cfg, rows, args.out, n_eval=args.eval_samples,
                                checkpoint_every=args.checkpoint_every, resume=not args.restart, announce=announce,
                                callback=None if args.quiet else _train_progress(cfg))
    except OSError as exc:
        raise ValueError(f"--out: cannot use {str(args.out)!r} ({_os_reason(exc)})") from None
    res = summary.pop("result")
    labels = [", ".join(f"{k}={v}" for k, v in g.items()) for g in rows]
    figs = training_curves_figure(res.steps, res.loss_d, res.loss_g, labels, args.out / "training_curves",
                                  title=f"{cfg.target}: {cfg.n_models} model(s), {cfg.steps} steps")
    summary["figures"] = [str(f) for f in figs]
    if args.json:
        _print_json(summary)
    else:
        varying = [k for k, v in grid.items() if len(v) > 1] + (["replica"] if args.seeds > 1 else [])
        metric = list(metric_names(cfg.target, cfg))

        def cell(v):
            return "-" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v))

        print("  ".join(["model"] + varying + ["diverged"] + metric))
        for r in summary["results"]:
            print("  ".join([str(r["model"])] + [cell(r[k]) for k in varying] + [str(r["diverged_step"] >= 0)]
                            + [cell(r[k]) for k in metric]))
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

    from . import nonparametric

    for name in ("n", "m"):
        if getattr(args, name) < 1:
            raise ValueError(f"-{name} = {getattr(args, name)}: must be >= 1")
    P, Q = _density_arg(args.real, "--real"), _density_arg(args.fake, "--fake")
    if P.dim != Q.dim:
        raise ValueError(f"--real/--fake: dimension mismatch, {P.spec} has d = {P.dim}, {Q.spec} has d = {Q.dim}")
    # refuse before sampling (the LP's own check comes after the n + m draws)
    need = nonparametric.estimate_memory(args.n, args.m, P.dim) + 16 * (args.n + args.m) * P.dim
    from . import resources

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


# ---------------------------------------------------------------------------------------------------- main
_COMMANDS = ["divergence", "verify", "derive", "analyse", "prove", "train", "bounds", "plot", "modes", "theorem1"]


# ---------------------------------------------------------------------------------------------------- modes
def _add_modes(sub) -> None:
    p = sub.add_parser("modes", help="mode collapse on Mao's ring / PacGAN's grid: the loss zoo over training",
                       description="Train every loss × seed × setting of a mode-collapse experiment "
                                   "(experiments/mode_collapse/*.toml) as batched ensembles, evaluate PacGAN's "
                                   "metrics at the evaluation steps and write CSV tables, Markdown tables and figures "
                                   "to OUT.  Resumable: rerunning the same command continues from OUT/state.")
    p.add_argument("spec", type=Path, help="the experiment file (TOML)")
    p.add_argument("--variant", choices=("quick", "full", "hour"), default=None,
                   help="apply the file's [quick] / [full] / [hour] overrides")
    p.add_argument("--out", type=Path, default=None, help="output folder (default results/modes/NAME-VARIANT)")
    p.add_argument("--threads", type=_int_type(1), default=1, help="torch CPU threads (default 1)")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda or auto")
    p.add_argument("--quiet", action="store_true", help="no progress lines")


def _run_modes(args) -> int:
    from ._claims.modes import modes_report
    from .ensemble import resolve_device
    from .studies.modes import load_modes_spec, run_modes

    spec = load_modes_spec(args.spec, args.variant)
    device = str(resolve_device(args.device))
    out = args.out if args.out is not None else Path("results") / "modes" / f"{spec.name}-{args.variant or 'base'}"
    _writable_dir(out, "--out")
    t0 = time.time()

    def progress(si, n, step, steps):
        if not args.quiet:
            print(f"[{time.time() - t0:7.0f} s] setting {si + 1}/{n}: step {step}/{steps}", file=sys.stderr,
                  flush=True)

    result = run_modes(spec, out / "state", device=device, threads=args.threads, progress=progress)
    rep = modes_report(result, out)
    print("\n".join(rep["tables"]))
    for f in rep["files"]:
        print(f"file: {f}")
    return 0


# ---------------------------------------------------------------------------------------------------- plot
def _add_plot(sub) -> None:
    p = sub.add_parser("plot", help="draw the figures a sweep's spec declares ([[figure]]) from its results store",
                       description="Read OUT/results.sqlite (written by lsgan-theory sweep), summarise each declared "
                                   "figure's metric over seeds (mean, 95 % Student-t interval) and write PNG + PDF "
                                   "files to OUT/figures (or --figures DIR).")
    p.add_argument("out", type=Path, help="the sweep's output folder (holding results.sqlite)")
    p.add_argument("--figures", type=Path, default=None, help="where to write the figures (default OUT/figures)")
    p.add_argument("--json", action="store_true", help="print the written files as JSON")


def _run_plot(args) -> int:
    from . import plots
    from .sweeps import figure_tables

    if not (args.out / "results.sqlite").is_file():
        raise ValueError(f"out: {str(args.out)!r} has no results.sqlite (run lsgan-theory sweep SPEC --out OUT first)")
    tables = figure_tables(args.out)
    if not tables:
        raise ValueError(f"out: the spec of {str(args.out)!r} declares no [[figure]]; add one (name, x, y, hue, logx, "
                         f"logy, reference) to the spec and rerun the sweep command (finished runs are kept)")
    dest = args.figures if args.figures is not None else args.out / "figures"
    _writable_dir(dest, "--figures")
    written = []
    for fig, table in tables:
        written += [str(f) for f in plots.sweep_figure(fig, table, dest / fig["name"])]
    if args.json:
        _print_json({"figures": written})
    else:
        for f in written:
            print(f)
    return 0


# ---------------------------------------------------------------------------------------------------- theorem1
def _add_theorem1(sub) -> None:
    p = sub.add_parser("theorem1", help="Theorem 1 verdicts, tidy CSV and figure of a λ sweep (experiments/lambda.toml)",
                       description="Read OUT/results.sqlite of a λ sweep with exact metrics (lsgan-theory sweep "
                                   "experiments/lambda.toml), fit the capacity floor per target (the generator "
                                   "architecture without an adversary), read Theorem 1 per target and data regime "
                                   "(consistent / violated at λ / inconclusive / not testable; Spearman trend with a "
                                   "bootstrap CI), against the paper's 2/λ and the sharp 2/(1+λ), and -- where the "
                                   "runs carry equilibrium certificates -- at certified equilibria only (consistent / "
                                   "violated / hypothesis not met), and write theorem1_runs.csv (one row per run, "
                                   "with the certificates), theorem1_summary.csv "
                                   "(one row per target, regime and λ), theorem1_verdicts.json and the figure "
                                   "theorem1_lambda_sweep.png/.pdf to --dest (default OUT/theorem1).")
    p.add_argument("out", type=Path, help="the sweep's output folder (holding results.sqlite)")
    p.add_argument("--dest", type=Path, default=None, help="where to write (default OUT/theorem1)")
    p.add_argument("--capacity-steps", type=_int_type(1, 10**6), default=1500,
                   help="Adam steps of the capacity-floor fit (default 1500)")
    p.add_argument("--capacity-n-z", type=_int_type(8, 10**6), default=2048,
                   help="noise quantiles the capacity floor is fitted on (default 2048)")
    p.add_argument("--capacity-models", type=_int_type(1, 1000), default=4,
                   help="networks fitted per slope weight; the floor is the best (default 4)")
    p.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


def _run_theorem1(args) -> int:
    from . import plots
    from .studies.theorem1 import read_lambda_store

    if not (args.out / "results.sqlite").is_file():
        raise ValueError(f"out: {str(args.out)!r} has no results.sqlite (run lsgan-theory sweep "
                         f"experiments/lambda.toml --out OUT first)")
    dest = args.dest if args.dest is not None else args.out / "theorem1"
    _writable_dir(dest, "--dest")
    def say(line: str) -> None:
        if not args.quiet:
            print(f"theorem1: {line}", file=sys.stderr, flush=True)

    rep = read_lambda_store(args.out, capacity_steps=args.capacity_steps, capacity_n_z=args.capacity_n_z,
                            capacity_models=args.capacity_models, progress=say)
    rep["tidy"].to_csv(dest / "theorem1_runs.csv", index=False)
    import pandas as pd

    pd.DataFrame(rep["summary"]).to_csv(dest / "theorem1_summary.csv", index=False)
    from .output import write_json

    write_json(dest / "theorem1_verdicts.json", {"meta": rep["meta"], "capacity_floor": rep["capacity"],
                                                 "verdicts": rep["verdicts"]}, what="--dest")
    figdata = {}
    for v in rep["verdicts"]:
        rows = [r for r in rep["summary"] if r["target"] == v["target"] and r["n_data"] == v["n_data"]]
        d = figdata.setdefault(v["target"], {"lams": [r["lam"] for r in rows], "floor": v["capacity_floor"],
                                             "regimes": {}})
        d["regimes"][v["regime"]] = {"mean": [r["l1_mean"] for r in rows], "lo": [r["l1_ci_lo"] for r in rows],
                                     "hi": [r["l1_ci_hi"] for r in rows], "verdict": v["verdict"]}
    figs = plots.theorem1_figure(figdata, dest / "theorem1_lambda_sweep")
    if args.json:
        _print_json({"verdicts": rep["verdicts"], "figures": [str(f) for f in figs]})
    else:
        for v in rep["verdicts"]:
            eq = (f"; at certified equilibria ({v['certified']} runs): {v['at_equilibrium_sharp']} (sharp 2/(1+λ)), "
                  f"{v['at_equilibrium_paper']} (paper 2/λ)") if "at_equilibrium_sharp" in v else ""
            print(f"{v['target']} [{v['regime']}]: {v['summary']}{eq}")
        for f in [dest / "theorem1_runs.csv", dest / "theorem1_summary.csv", dest / "theorem1_verdicts.json", *figs]:
            print(f)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="lsgan-theory", description="Check the theory of GAN losses -- the Loss-Sensitive GAN "
                     "(LS-GAN) and its relatives -- symbolically, numerically and by training small GANs. "
                     "Start with `lsgan-theory verify --quick --out report`.")
    parser.add_argument("--version", action="version", version=f"lsgan-theory {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in _COMMANDS:
        globals()[f"_add_{name}"](sub)
    from .sweeps.command import add_sweep_parsers  # sweep, results (issue 15)

    add_sweep_parsers(sub)
    return parser


#: The markers around the generated CLI reference in README.md (``tools/readme.py cli`` rewrites what lies between).
REFERENCE_BEGIN = "<!-- cli-reference: begin (generated from the argument parser by `python tools/readme.py cli`) -->"
REFERENCE_END = "<!-- cli-reference: end -->"


def _metavar(action: argparse.Action) -> str:
    """An argument's value placeholder as ``--help`` writes it (``N``, ``{l1,l2}``, ``X [X ...]``)."""
    if action.choices is not None and action.metavar is None:
        m = "{" + ",".join(map(str, action.choices)) + "}"
    else:
        m = action.metavar or (action.dest if not action.option_strings else action.dest.upper())
    n = action.nargs
    return {None: m, "?": f"[{m}]", "*": f"[{m} ...]", "+": f"{m} [{m} ...]"}.get(
        n, " ".join([m] * n) if isinstance(n, int) else m)


def _help_text(text: str | None, action: argparse.Action | None = None, cell: bool = True) -> str:
    """argparse's ``%%`` and ``%(name)s`` expanded, whitespace collapsed; pipes escaped for a table ``cell``."""
    if not text:
        return ""
    if action is not None:
        text = text % {**vars(action), "default": action.default}
    else:
        text = text.replace("%%", "%")
    text = " ".join(text.split())
    return text.replace("|", "\\|") if cell else text


TABLE_BEGIN = "<!-- cli-table: begin (generated from the argument parser by `python tools/readme.py cli`) -->"
TABLE_END = "<!-- cli-table: end -->"


def cli_table() -> str:
    """The subcommands and their one-line help as a Markdown table (README.md, between :data:`TABLE_BEGIN` and
    :data:`TABLE_END`; the full reference, :func:`cli_reference`, is docs/cli.md)."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {a.dest: a.help for a in sub._choices_actions}
    lines = ["| command | what it does |", "|---|---|"]
    lines += [f"| `lsgan-theory {name}` | {_help_text(helps.get(name))} |" for name in sub.choices]
    return "\n".join(lines) + "\n"


def cli_reference() -> str:
    """The command-line reference as Markdown, generated from :func:`build_parser`: a table of the subcommands with
    their one-line help, then per subcommand (in a collapsed ``<details>`` block) its synopsis, description and a
    table of its arguments.  Rendered from the parser's actions, not from ``format_help()``, so the text does not
    depend on the Python version's argparse layout or the terminal width.  docs/cli.md holds this text between
    :data:`REFERENCE_BEGIN` and :data:`REFERENCE_END`; ``tests/test_readme.py`` checks that the two are equal."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {a.dest: a.help for a in sub._choices_actions}
    lines = cli_table().rstrip("\n").split("\n")
    for name, sp in sub.choices.items():
        exclusive = {id(a): g for g in sp._mutually_exclusive_groups for a in g._group_actions}
        synopsis, done = [f"lsgan-theory {name}"], set()
        for a in sp._actions:
            if isinstance(a, argparse._HelpAction) or id(a) in done:
                continue
            if id(a) in exclusive:  # [--quick | --full]
                group = exclusive[id(a)]._group_actions
                done.update(id(g) for g in group)
                synopsis.append("[" + " | ".join(_option(g) for g in group) + "]")
            elif a.option_strings:
                synopsis.append(_option(a) if a.required else f"[{_option(a)}]")
            else:
                synopsis.append(_metavar(a))
        rows = [f"| `{_option(a, every=True)}` | {_help_text(a.help, a)}"
                + (f" (default: `{a.default}`)" if _show_default(a) else "") + " |"
                for a in sp._actions if not isinstance(a, argparse._HelpAction)]
        lines += ["", f"<details><summary><code>lsgan-theory {name}</code> — {_help_text(helps.get(name), cell=False)}</summary>",
                  "", "```text", " ".join(synopsis), "```", ""]
        if sp.description:
            lines += [_help_text(sp.description, cell=False), ""]
        lines += ["| argument | meaning |", "|---|---|", *rows, "", "</details>"]
    return "\n".join(lines) + "\n"


def _option(action: argparse.Action, every: bool = False) -> str:
    """``--out OUT`` (the first option string, or all of them joined by ``, `` when ``every``); a positional's
    placeholder."""
    if not action.option_strings:
        return _metavar(action)
    names = ", ".join(action.option_strings) if every else action.option_strings[-1]
    return names if action.nargs == 0 else f"{names} {_metavar(action)}"


def _show_default(action: argparse.Action) -> bool:
    d = action.default
    return (action.option_strings and action.nargs != 0 and d is not None and d is not argparse.SUPPRESS
            and not (isinstance(d, list) and not d) and "default" not in (action.help or ""))


#: subcommands whose work runs sympy under the LSGAN_SYMPY_TIMEOUT time limit
_SYMPY_COMMANDS = ("derive", "analyse", "prove", "verify")


def main(argv: list[str] | None = None) -> int:
    """Run the command line and return the exit status (also for a bad flag, ``--help`` and ``--version``)."""
    from .output import one_line_warnings, safe_streams

    safe_streams()  # PYTHONIOENCODING=ascii: escapes instead of a UnicodeEncodeError (issue 30)
    one_line_warnings()  # numpy/torch warnings as one line "note: ...", never with a source line
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse has printed its one line (or the help)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    name = f"lsgan-theory {args.command}"
    try:
        if args.command in _SYMPY_COMMANDS:  # LSGAN_SYMPY_TIMEOUT checked before any work, whatever is cached
            from .symbolic import default_seconds

            default_seconds()
        if args.command in ("sweep", "results"):
            from .sweeps import command as _sweep_commands

            return getattr(_sweep_commands, f"run_{args.command}")(args)
        return globals()[f"_run_{args.command.replace('-', '_')}"](args)
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        return 130
    except (ValueError, TypeError) as exc:
        msg = str(exc)
    except TimeoutError as exc:  # sympy's time limit (SymbolicTimeout)
        msg = str(exc) or "time limit exceeded"
    except OSError as exc:  # a file-system error anywhere: name the path
        msg = f"file system: {_os_reason(exc)}"
    except MemoryError as exc:
        msg = f"out of memory{': ' + str(exc) if str(exc) else ''}; use smaller sizes"
    except RecursionError:
        msg = "input nested too deeply"
    except RuntimeError as exc:  # torch's allocator failing is a memory error; anything else is a bug: re-raise
        from .resources import ALLOCATOR_MESSAGE, is_allocator_error

        if not is_allocator_error(exc):
            raise
        msg = ALLOCATOR_MESSAGE
    print(f"{name}: error: {' '.join(msg.split())}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
