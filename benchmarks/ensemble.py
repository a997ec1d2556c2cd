"""The ensemble engine against a plain per-model torch loop, side by side in one process (issue 28).

Three configurations (the issue's):

* ``ring512``: Mao's ring -- z ∈ R^256, G 256→128→128→2, D 2→128→128→1, tanh, least squares (a, b, c) = (−1, 1, 0),
  batch 512, Adam (lr_D 1e-4, lr_G 1e-3, β₁ 0.5), each model its own 100 000-point data set;
* ``ring64``: the same at batch 64;
* ``ls1d``: 1-D LS-GAN (Qi), normal(0, 1), G and L 1→64→64→1 ReLU, batch 256 with all 256² hinge pairs, Adam.

For each configuration and each E (default 16 and 64), interleaved rounds of

* **plain**: the usual one-model-at-a-time code -- ``nn.Sequential`` G and D, ``torch.randn`` noise, ``torch.randint``
  batch indices, ``torch.optim.Adam``, the same losses (``lsgan_theory.losses``) -- timed on a few models;
* **ensemble**: E models as one batched run (the engine's own step, :mod:`lsgan_theory.ensemble.trainer`);

the minimum per model-step over rounds of each (contention from other processes only ever adds time), their ratio,
the MLP FLOP/s the ensemble reaches against the machine's single-thread ``torch.bmm`` peak measured in the same run,
and the share of the step spent drawing random numbers (the same draws timed alone).  For ``ls1d`` the step is also
split into MLP forward+backward, the all-pairs margins and hinge, the optimiser and the draws (each timed alone on
the step's own shapes; "other" is the rest).  With CUDA present the same runs are timed on the GPU (no plain loop
per model there: E launches per step make it meaningless at E = 4096; the FLOP/s against the card's measured
matmul peak is printed instead).

Targets (issue 28; one thread): ring512 ≥ 50 % of the bmm peak (≥ 1.5× plain), ring64 ≥ 3× plain, ls1d ≥ 5× plain,
never slower than plain, draws ≤ 10 % of a step, at E = 16 and 64.  Usage::

    python benchmarks/ensemble.py                          # CPU, one thread, E = 16 and 64, every configuration
                                                           # (then the same on CUDA when torch sees a GPU)
    python benchmarks/ensemble.py --quick                  # a smoke run (E = 4 16, rough figures)
    python benchmarks/ensemble.py --configs ls1d --E 64 --rounds 5
    python benchmarks/ensemble.py --device cuda --E 1 64 1024 4096 --configs ring512 ls1d
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from lsgan_theory import losses
from lsgan_theory.ensemble import TrainConfig
from lsgan_theory.ensemble import trainer as T

CONFIGS = {
    "ring512": dict(target="ring(8,1,0.01)", batch=512, n_data=100_000, noise_dim=256, g_hidden=(128, 128),
                    d_hidden=(128, 128), activation="tanh", family="least_squares", lr_d=1e-4, lr_g=1e-3,
                    beta1=0.5),
    "ring64": dict(target="ring(8,1,0.01)", batch=64, n_data=100_000, noise_dim=256, g_hidden=(128, 128),
                   d_hidden=(128, 128), activation="tanh", family="least_squares", lr_d=1e-4, lr_g=1e-3, beta1=0.5),
    "ls1d": dict(target="normal(0,1)", batch=256, n_data=4096, noise_dim=1, g_hidden=(64, 64), d_hidden=(64, 64),
                 activation="relu", family="loss_sensitive", lam=1.0, tau=1.0, lr_d=1e-3, lr_g=1e-3, beta1=0.5),
}
TARGET_RATIO = {"ring512": 1.5, "ring64": 3.0, "ls1d": 5.0}


def _sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def _config(name: str, E: int, device: str) -> TrainConfig:
    return TrainConfig(n_models=E, steps=10**6, device=device, record_every=10**6, **CONFIGS[name])


# ---------------------------------------------------------------------------------------------------- FLOPs
def flops_per_model_step(cfg: TrainConfig) -> float:
    """MLP FLOPs of one engine step for one model, the products the step must do: D update = G forward on B rows
    (no gradient) + D forward, weight gradients and input gradients on 2B rows (3× forward), less D's first-layer
    input gradient (nothing flows into the data); G update = G forward, weight and input gradients on B rows (3×
    forward) less G's first-layer input gradient (nothing flows into the noise), + D forward and input gradients on
    B rows (2× forward: D's weight gradient is not needed).  f = 2 Σ d_l d_{l+1} per row and network.  (Until
    2026-12-08 the two first-layer input gradients were counted too: 11 % too many FLOPs on the ring, 0.4 % on ls1d.)"""
    B = cfg.batch
    g, d = cfg.g_spec(), cfg.d_spec()
    fg = 2 * sum(a * b for a, b in g.widths())
    fd = 2 * sum(a * b for a, b in d.widths())
    (g0, g1), (d0, d1) = g.widths()[0], d.widths()[0]
    return B * fg + 3 * 2 * B * fd + 3 * B * fg + 2 * B * fd - 2 * (2 * B * d0 * d1) - 2 * (B * g0 * g1)


def bmm_peak(device: torch.device, reps: int = 5) -> float:
    """The best FLOP/s of ``torch.bmm`` on large square blocks and on the ring's layer shapes (float32)."""
    best = 0.0
    big = 4096 if device.type == "cuda" else 512
    shapes = [(8, big, big, big), (64, 512, 256, 128), (64, 512, 128, 128), (16, 512, 256, 128)]
    for E, n, k, m in shapes:
        a = torch.randn(E, n, k, device=device)
        b = torch.randn(E, k, m, device=device)
        for _ in range(2):
            torch.bmm(a, b)
        _sync(device)
        for _ in range(3):
            t = time.perf_counter()
            for _ in range(reps):
                torch.bmm(a, b)
            _sync(device)
            best = max(best, 2 * E * n * k * m * reps / (time.perf_counter() - t))
    return best


# ---------------------------------------------------------------------------------------------------- plain loop
def _mlp(sizes, act):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(torch.nn.Tanh() if act == "tanh" else torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def plain_seconds_per_model_step(cfg: TrainConfig, n_models: int, steps: int) -> float:
    """The usual per-model code for ``cfg`` (torch RNG, nn.Sequential, torch.optim.Adam), timed over ``n_models``
    models × ``steps`` steps after one warm-up step each."""
    dev = T.resolve_device(cfg.device)
    d = cfg.g_spec().sizes[-1]
    total = 0.0
    for e in range(n_models):
        g = torch.Generator(device=dev).manual_seed(e)
        G = _mlp(cfg.g_spec().sizes, cfg.activation).to(dev)
        D = _mlp(cfg.d_spec().sizes, cfg.activation).to(dev)
        oG = torch.optim.Adam(G.parameters(), cfg.lr_g, betas=(cfg.beta1, cfg.beta2))
        oD = torch.optim.Adam(D.parameters(), cfg.lr_d, betas=(cfg.beta1, cfg.beta2))
        data = torch.randn(cfg.n_data, d, generator=g, device=dev)
        B = cfg.batch

        def step():
            x = data[torch.randint(0, cfg.n_data, (B,), generator=g, device=dev)]
            with torch.no_grad():
                fake = G(torch.randn(B, cfg.noise_dim, generator=g, device=dev))
            if cfg.family == "least_squares":
                loss = losses.least_squares_discriminator_loss(D(x).squeeze(-1), D(fake).squeeze(-1), a=-1.0, b=1.0)
            else:
                margin = losses.margin_matrix(x, fake, margin_kind="l1", tau=cfg.tau)
                sp = torch.nn.functional.softplus
                loss = losses.loss_sensitive_objective(sp(D(x).squeeze(-1)), sp(D(fake).squeeze(-1)), margin,
                                                       cfg.lam)
            oD.zero_grad()
            loss.backward()
            oD.step()
            out = D(G(torch.randn(B, cfg.noise_dim, generator=g, device=dev))).squeeze(-1)
            if cfg.family == "least_squares":
                lg = losses.least_squares_generator_loss(out, c=0.0)
            else:
                lg = losses.loss_sensitive_generator_loss(torch.nn.functional.softplus(out))
            oG.zero_grad()
            lg.backward()
            oG.step()

        step()
        _sync(dev)
        t = time.perf_counter()
        for _ in range(steps):
            step()
        _sync(dev)
        total += time.perf_counter() - t
    return total / (n_models * steps)


# ---------------------------------------------------------------------------------------------------- ensemble
class Engine:
    """One ensemble run held open: ``step()`` runs one engine step (n_critic D updates, one G update)."""

    def __init__(self, cfg: TrainConfig):
        self.cfg = cfg
        self.run = T.setup(cfg)
        self.state = T.init_state(self.run)
        self.t = 0
        self.step()

    def step(self):
        c, run = self.cfg, self.run
        for k in range(c.n_critic):
            self.state = T.d_step(run, self.state, self.t, self.t * c.n_critic + k)
        self.state = T.g_step(run, self.state, self.t)
        self.t += 1

    def seconds_per_step(self, steps: int) -> float:
        dev = self.run.device
        _sync(dev)
        t = time.perf_counter()
        for _ in range(steps):
            self.step()
        _sync(dev)
        return (time.perf_counter() - t) / steps

    def draw_seconds_per_step(self, steps: int) -> float:
        """The step's random draws alone: noise for D and G, batch indices (and GP mixing when used)."""
        run, c, dev = self.run, self.cfg, self.run.device
        _sync(dev)
        t = time.perf_counter()
        for s in range(steps):
            for k in range(c.n_critic):
                T._noise(run, "noise_d", s * c.n_critic + k)
                T._real_batch(run, s * c.n_critic + k)
            T._noise(run, "noise_g", s)
        _sync(dev)
        return (time.perf_counter() - t) / steps


def timed(fn, reps: int, device) -> float:
    """Seconds per call of ``fn`` over ``reps`` calls after one warm-up call (device synchronised around)."""
    fn()
    _sync(device)
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    _sync(device)
    return (time.perf_counter() - t) / reps


def network_passes(engine: Engine, wrap=lambda f: f):
    """A function running every network pass of an engine step, forward and backward, with the losses replaced by
    sums: G without gradient (the D update's fakes), D on the real and fake batches with D's gradients, then D∘G
    with G's gradients.  ``wrap`` is applied to the three forward functions (e.g. ``torch.compile``)."""
    run, st = engine.run, engine.state
    x, z = T._packed_real(run, 0), T._noise(run, "noise_g", 0)
    fake = T._fake_batch(run, st.g_params, 0)
    gen = wrap(lambda gp, z: T._generator(run, gp, z))
    d_obj = wrap(lambda dp, x, fake: T._critic(run, dp, x).sum() + T._critic(run, dp, fake).sum())
    g_obj = wrap(lambda dp, gp, z: T._critic(run, dp, T._generator(run, gp, z)).sum())

    def passes():
        with torch.no_grad():
            gen(st.g_params, z)
        dp = tuple(p.detach().requires_grad_(True) for p in st.d_params)
        torch.autograd.grad(d_obj(dp, x, fake), dp)
        gp = tuple(p.detach().requires_grad_(True) for p in st.g_params)
        torch.autograd.grad(g_obj(st.d_params, gp, z), gp)
    return passes


def split_ls1d(engine: Engine, reps: int) -> dict:
    """Seconds per step of the parts of a step (the ls1d split; any configuration), each timed alone on the step's
    shapes: the network passes, the loss ("margins": ls1d's all-pairs objective), the optimiser and the draws."""
    run, st, c = engine.run, engine.state, engine.cfg
    dev = run.device
    E, B = c.n_models, c.batch
    x = T._packed_real(run, 0)
    fake = T._fake_batch(run, st.g_params, 0)

    gen = torch.Generator(device=dev).manual_seed(0)
    r0 = torch.rand(E, B, generator=gen, device=dev, dtype=run.dtype)
    f0 = torch.rand(E, B, generator=gen, device=dev, dtype=run.dtype)
    fam, _, h, _ = run.groups[0]

    def margins():  # the loss-sensitive objective (softplus, all-pairs margins and hinge), forward and backward
        r, f = r0.clone().requires_grad_(True), f0.clone().requires_grad_(True)
        torch.autograd.grad(T._d_loss(fam, r, f, x, fake, h).sum(), (r, f))

    grads_d = tuple(torch.zeros_like(p) for p in st.d_params)
    grads_g = tuple(torch.zeros_like(p) for p in st.g_params)
    models = list(range(E))

    def optimiser():  # both updates with zero gradients on copies of the state (Adam in place)
        run.opt_d.update_(grads_d, opt_d, d_copy, models)
        run.opt_g.update_(grads_g, opt_g, g_copy, models)

    d_copy = tuple(p.clone() for p in st.d_params)
    g_copy = tuple(p.clone() for p in st.g_params)
    opt_d, opt_g = run.opt_d.init(d_copy), run.opt_g.init(g_copy)
    return {"mlp": timed(network_passes(engine), reps, dev), "margins": timed(margins, reps, dev),
            "optimiser": timed(optimiser, reps, dev) if run.opt_d.update_ is not None else float("nan"),
            "draws": engine.draw_seconds_per_step(reps)}


# ---------------------------------------------------------------------------------------------------- main
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    ap.add_argument("--E", "--models", dest="models", nargs="+", type=int, default=None,
                    help="ensemble sizes E (default 16 64; --quick: 4 16)")
    ap.add_argument("--quick", action="store_true", help="smaller settings for a smoke run: E = 4 16, one round, "
                    "0.3 s timings (the figures are then rough)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds (best of each is reported)")
    ap.add_argument("--seconds", type=float, default=2.0, help="about how long each timing lasts")
    ap.add_argument("--plain-models", type=int, default=2, help="models timed in the plain loop (per round)")
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"],
                    help="auto (default): the CPU, then CUDA as a second section when torch sees a GPU")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (issue 28 measures one)")
    a = ap.parse_args(argv)
    if a.quick:
        a.rounds, a.seconds, a.plain_models = 1, 0.3, 1
    if a.models is None:
        a.models = [4, 16] if a.quick else [16, 64]
    if any(E < 1 for E in a.models):
        ap.error("--E: ensemble sizes must be >= 1")
    if a.device == "cuda" and not torch.cuda.is_available():
        ap.error("--device cuda: torch sees no CUDA device (use --device cpu, or auto)")
    torch.set_num_threads(a.threads)
    devices = (["cpu"] + (["cuda"] if torch.cuda.is_available() else [])) if a.device == "auto" else [a.device]
    for i, name in enumerate(devices):
        if i:
            print("\n" + "=" * 124 + "\n")
        _section(T.resolve_device(name), a)


def _section(dev, a):
    """The table (and the ls1d split) on one device."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"device {dev}, torch {torch.__version__}, {torch.get_num_threads()} thread(s), load average "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (at start)")
    peak = bmm_peak(dev)
    print(f"single-{'device' if dev.type == 'cuda' else 'thread'} torch.bmm peak (float32, best of several shapes): "
          f"{peak / 1e9:.1f} GFLOP/s\n")
    head = (f"{'config':8} {'E':>5} {'plain ms/model-step':>20} {'ensemble ms/model-step':>23} {'ensemble/plain':>15} "
            f"{'target':>7} {'GFLOP/s':>8} {'% of bmm peak':>14} {'draws % of step':>16}")
    print(head)
    print("-" * len(head))
    splits = []
    for name in a.configs:
        for E in a.models:
            cfg = _config(name, E, str(dev))
            eng = Engine(cfg)
            probe = eng.seconds_per_step(1)
            steps = max(2, int(a.seconds / max(probe, 1e-4)))
            plain_steps = max(2, int(a.seconds / (4 * max(probe / E, 1e-4) * a.plain_models)))
            ens, pla, draws = [], [], []
            for _ in range(a.rounds):
                ens.append(eng.seconds_per_step(steps) / E)
                draws.append(eng.draw_seconds_per_step(max(2, steps // 2)) / E)
                if dev.type == "cpu":
                    pla.append(plain_seconds_per_model_step(cfg, a.plain_models, plain_steps))
            e_ms, d_ms = min(ens), min(draws)
            p_ms = min(pla) if pla else float("nan")
            gflops = flops_per_model_step(cfg) / e_ms
            ratio = p_ms / e_ms
            target = f"≥{TARGET_RATIO[name]:g}×" if dev.type == "cpu" else "-"
            print(f"{name:8} {E:>5} {p_ms * 1e3:>20.3f} {e_ms * 1e3:>23.3f} {ratio:>14.2f}× {target:>7} "
                  f"{gflops / 1e9:>8.1f} {100 * gflops / peak:>13.1f}% {100 * d_ms / e_ms:>15.1f}%", flush=True)
            if name == "ls1d":
                parts = split_ls1d(eng, max(2, steps // 2))
                splits.append((E, e_ms * E, parts))
    for E, step, parts in splits:
        other = step - sum(v for v in parts.values() if v == v)
        text = ", ".join(f"{k} {1e3 * v:.2f} ms ({100 * v / step:.0f} %)" for k, v in parts.items())
        print(f"\nls1d E = {E}: step {1e3 * step:.2f} ms = {text}, other {1e3 * other:.2f} ms "
              f"({100 * other / step:.0f} %) [each part timed alone]")
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"\nload average at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; targets (issue 28, one thread): ring512 "
          f"≥ 50 % of the bmm peak and ≥ 1.5× plain, ring64 ≥ 3×, ls1d ≥ 5×, never < 1×, draws ≤ 10 %")


if __name__ == "__main__":
    main()
