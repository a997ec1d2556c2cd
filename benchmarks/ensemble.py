"""Batched ensemble trainer vs. training the same GANs one at a time, measured side by side in one run.

Set-up (issue #6): E loss-sensitive GANs (LS-GAN, Qi) on normal(0,1), generator and loss network MLPs
1→64→64→1 (ReLU), batch 256 with all n·m = 256² hinge pairs, Adam.  Three timings, interleaved in one process:

* **batched**: one ``train`` call with E models;
* **sequential (same runs)**: ``train`` with one model at a time, the same stream ids, so the same trajectories;
* **sequential (plain torch)**: the usual one-model-per-process code (``nn.Sequential`` + ``torch.optim.Adam``, the
  same losses), timed on a few models and scaled to E.

Also a micro-benchmark of the batched MLP forward+backward: ``torch.baddbmm`` over stacked weights (what the trainer
uses) vs ``torch.func.vmap`` over a single-model ``functional_call``.

On CUDA it reports steps/s and the achieved FLOP/s of the MLP work against the card's measured peak (a large float32
matmul on the same device).  Usage::

    python benchmarks/ensemble.py                       # CPU, E = 64, 2000 batched steps, 100 sequential steps
    python benchmarks/ensemble.py --device cuda --models 4096 --steps 200 --seq-steps 20
"""

from __future__ import annotations

import argparse
import time

import torch

from lsgan_theory import losses
from lsgan_theory.ensemble import TrainConfig, mlp, train
from lsgan_theory.ensemble.trainer import resolve_device


def _sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def _config(E, steps, batch, width, device):
    return TrainConfig(n_models=E, steps=steps, batch=batch, g_hidden=(width, width), d_hidden=(width, width),
                       noise_dim=1, family="loss_sensitive", lam=1.0, tau=1.0, n_data=4096,
                       device=device, record_every=max(1, steps // 10))


def time_batched(cfg) -> float:
    t = time.perf_counter()
    train(cfg)
    return time.perf_counter() - t


def time_sequential_same_runs(cfg, n_models: int) -> float:
    """Seconds to train ``n_models`` of the ensemble one by one (same stream ids, same trajectories)."""
    t = time.perf_counter()
    for e in range(n_models):
        train(cfg.select([e]))
    return time.perf_counter() - t


def time_plain_torch(steps, batch, width, device, n_models: int) -> float:
    """The usual per-model code: nn.Sequential + torch.optim.Adam, same losses and sizes, torch's RNG."""
    dev = torch.device(device)
    t = time.perf_counter()
    for e in range(n_models):
        g = torch.Generator(device=dev).manual_seed(e)
        G = torch.nn.Sequential(torch.nn.Linear(1, width), torch.nn.ReLU(), torch.nn.Linear(width, width),
                                torch.nn.ReLU(), torch.nn.Linear(width, 1)).to(dev)
        D = torch.nn.Sequential(torch.nn.Linear(1, width), torch.nn.ReLU(), torch.nn.Linear(width, width),
                                torch.nn.ReLU(), torch.nn.Linear(width, 1)).to(dev)
        oG = torch.optim.Adam(G.parameters(), 1e-3, betas=(0.5, 0.999))
        oD = torch.optim.Adam(D.parameters(), 1e-3, betas=(0.5, 0.999))
        data = torch.randn(4096, 1, generator=g, device=dev)
        for _ in range(steps):
            x = data[torch.randint(0, 4096, (batch,), generator=g, device=dev)]
            with torch.no_grad():
                fake = G(torch.randn(batch, 1, generator=g, device=dev))
            margin = losses.margin_matrix(x, fake, margin_kind="l1", tau=1.0)
            loss = losses.loss_sensitive_objective(D(x).squeeze(-1), D(fake).squeeze(-1), margin, 1.0)
            oD.zero_grad()
            loss.backward()
            oD.step()
            lg = losses.loss_sensitive_generator_loss(D(G(torch.randn(batch, 1, generator=g, device=dev))).squeeze(-1))
            oG.zero_grad()
            lg.backward()
            oG.step()
    _sync(dev)
    return time.perf_counter() - t


def mlp_microbenchmark(E, batch, width, device, reps=20) -> tuple[float, float]:
    """Seconds per forward+backward of E MLPs: baddbmm over stacked weights vs torch.func.vmap."""
    from torch.func import functional_call, grad, vmap

    dev = torch.device(device)
    spec = mlp.MLPSpec((1, width, width, 1))
    params = mlp.init_mlp(spec, 0, torch.arange(E), 1, device=dev)
    x = torch.randn(E, batch, 1, device=dev)

    def loss_bmm(p):
        return mlp.mlp_forward(p, x).square().mean(dim=(1, 2)).sum()

    net = torch.nn.Sequential(torch.nn.Linear(1, width), torch.nn.ReLU(), torch.nn.Linear(width, width),
                              torch.nn.ReLU(), torch.nn.Linear(width, 1)).to(dev)
    names = [n for n, _ in net.named_parameters()]
    stacked = {n: (params[i].transpose(1, 2).contiguous() if i % 2 == 0 else params[i][:, 0].contiguous())
               for i, n in enumerate(names)}

    def one(pdict, xi):
        return functional_call(net, pdict, (xi,)).square().mean()

    vg = vmap(grad(one))

    def run_bmm():
        ps = tuple(p.detach().requires_grad_(True) for p in params)
        return torch.autograd.grad(loss_bmm(ps), ps)

    def run_vmap():
        return vg(stacked, x)

    out = []
    for fn in (run_bmm, run_vmap):
        for _ in range(3):
            fn()
        _sync(dev)
        t = time.perf_counter()
        for _ in range(reps):
            fn()
        _sync(dev)
        out.append((time.perf_counter() - t) / reps)
    return out[0], out[1]


def flops_per_step(E, batch, width) -> float:
    """MLP FLOPs of one trainer step (LS-GAN): D step 2B forward + backward (≈3×), G forward B (no grad);
    G step: G and D forward+backward on B (≈3× each).  f = 2 Σ d_l d_{l+1} per sample and network."""
    f = mlp.MLPSpec((1, width, width, 1)).flops_per_sample()
    return E * batch * f * (3 * 2 + 1 + 3 + 3)


def measured_peak(device) -> float:
    dev = torch.device(device)
    n = 4096 if dev.type == "cuda" else 1024
    a, b = torch.randn(n, n, device=dev), torch.randn(n, n, device=dev)
    for _ in range(3):
        a @ b
    _sync(dev)
    reps = 50 if dev.type == "cuda" else 5
    t = time.perf_counter()
    for _ in range(reps):
        a @ b
    _sync(dev)
    return 2 * n**3 * reps / (time.perf_counter() - t)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=int, default=64)
    ap.add_argument("--steps", type=int, default=2000, help="batched steps")
    ap.add_argument("--seq-steps", type=int, default=100, help="steps per model in the sequential loops")
    ap.add_argument("--seq-models", type=int, default=8, help="models timed sequentially (scaled to --models)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds (best of each is reported)")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    a = ap.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    dev = resolve_device(a.device)
    E = a.models
    print(f"device {dev}, E = {E}, MLPs 1→{a.width}→{a.width}→1, batch {a.batch} (all {a.batch}² hinge pairs), "
          f"threads {torch.get_num_threads()}")
    # warm-up (allocator, kernels)
    train(_config(E, 3, a.batch, a.width, str(dev)))
    train(_config(1, 3, a.batch, a.width, str(dev)))
    time_plain_torch(3, a.batch, a.width, str(dev), 1)

    # interleave rounds of sequential – batched – plain on the same step count; the minimum over rounds of each
    # per-step cost is robust to contention from other processes (which only ever adds time)
    cfg_short = _config(E, a.seq_steps, a.batch, a.width, str(dev))
    k = min(a.seq_models, E)
    seq, bat, pla = [], [], []
    for _ in range(a.rounds):
        seq.append(time_sequential_same_runs(cfg_short, k) / (k * a.seq_steps))
        bat.append(time_batched(cfg_short) / a.seq_steps)
        pla.append(time_plain_torch(a.seq_steps, a.batch, a.width, str(dev), k) / (k * a.seq_steps))
    per_model_step_seq, per_step_batched_short, per_model_step_plain = min(seq), min(bat), min(pla)
    print(f"\n[{a.seq_steps} steps, {a.rounds} interleaved rounds, best of each] batched: "
          f"{per_step_batched_short * 1e3:.2f} ms/step for {E} models (rounds: "
          + ", ".join(f"{b * 1e3:.1f}" for b in bat) + ")")
    print(f"  sequential same runs ({k} models): {per_model_step_seq * 1e3:.2f} ms/step/model "
          f"→ ratio {E * per_model_step_seq / per_step_batched_short:.1f}×")
    print(f"  sequential plain torch ({k} models): {per_model_step_plain * 1e3:.2f} ms/step/model "
          f"→ ratio {E * per_model_step_plain / per_step_batched_short:.1f}×")

    bat_full = time_batched(_config(E, a.steps, a.batch, a.width, str(dev)))
    per_step = bat_full / a.steps
    print(f"\n[{a.steps} batched steps] {bat_full:.1f} s, {per_step * 1e3:.2f} ms/step, {a.steps / bat_full:.1f} steps/s, "
          f"{E * a.steps / bat_full:.0f} model-steps/s")
    print(f"  vs sequential same runs (per-step cost from the {a.seq_steps}-step loop): "
          f"{E * per_model_step_seq / per_step:.1f}×;  vs plain torch: {E * per_model_step_plain / per_step:.1f}×")

    t_bmm, t_vmap = mlp_microbenchmark(E, 2 * a.batch, a.width, str(dev))
    print(f"\n[MLP forward+backward, E={E}, {2 * a.batch} rows] baddbmm {t_bmm * 1e3:.2f} ms, torch.func.vmap "
          f"{t_vmap * 1e3:.2f} ms → vmap/bmm = {t_vmap / t_bmm:.2f}")

    peak = measured_peak(str(dev))
    achieved = flops_per_step(E, a.batch, a.width) / per_step
    print(f"\n[throughput] MLP FLOP/s achieved {achieved / 1e9:.1f} GFLOP/s; measured matmul peak {peak / 1e9:.1f} "
          f"GFLOP/s ({100 * achieved / peak:.1f} % of peak; the all-pairs hinge is not counted)")


if __name__ == "__main__":
    main()
