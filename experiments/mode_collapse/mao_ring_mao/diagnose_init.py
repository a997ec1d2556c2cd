"""One non-saturating GAN of the [mao] variant (Mao's networks, optimiser, batch 512, fresh target draws) trained for
1 500 steps under each update scheme and initialiser, printing where its samples lie: the diagnostic behind this
folder's README (run from the repository root: python experiments/mode_collapse/mao_ring_mao/diagnose_init.py)."""
import dataclasses

import torch

from lsgan_theory import densities, metrics
from lsgan_theory.ensemble import train
from lsgan_theory.studies.modes import ensemble_config, load_modes_spec

torch.set_num_threads(1)
spec = load_modes_spec("experiments/mode_collapse/mao_ring.toml", "mao")
base = ensemble_config(spec, {"update": "simultaneous"})
one = base.select([e for e, f in enumerate(base.family) if f == "gan_ns"][:1])
target = densities.parse(one.target)
print("scheme       init              steps  sample SD (x, y)   modes (>= 1)  high quality")
for update in ("simultaneous", "alternating"):
    for init, gain in (("orthogonal", 1.4), ("orthogonal", 1.0), ("uniform", 1.0)):
        c = dataclasses.replace(one, steps=1500, record_every=1500, update=update, init=init, init_gain=gain)
        x = train(c).sample(2500)[0]
        ms = metrics.mode_statistics(x, target.centres, target.std, min_count=1)
        print(f"{update:12s} {init + ' ' + str(gain):17s} {c.steps:5d}  {x.std(0)[0]:7.2f} {x.std(0)[1]:7.2f}"
              f"     {ms.modes:5d}        {ms.high_quality:.3f}", flush=True)
