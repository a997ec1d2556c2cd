"""An independent plain-torch check of the [mao] set-up (one non-saturating GAN, Mao's networks and optimiser,
batch 512, fresh ring draws): python plain_torch_check.py orth|unif sim|alt STEPS; output in plain_torch_check.txt."""
import math, sys, numpy as np, torch, torch.nn as nn
torch.manual_seed(0); torch.set_num_threads(1)
init = sys.argv[1]; update = sys.argv[2]; steps = int(sys.argv[3])
def net(sizes):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        l = nn.Linear(a, b)
        if init == "orth":
            nn.init.orthogonal_(l.weight, gain=1.4); nn.init.zeros_(l.bias)
        layers += [l] + ([nn.Tanh()] if i < len(sizes) - 2 else [])
    return nn.Sequential(*layers)
G, D = net([256, 128, 128, 2]), net([2, 128, 128, 1])
og = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999), eps=1e-8)
od = torch.optim.Adam(D.parameters(), lr=1e-4, betas=(0.5, 0.999), eps=1e-8)
th = torch.arange(8) * 2 * math.pi / 8
C = torch.stack([torch.cos(th), torch.sin(th)], 1)
def real(n): return C[torch.randint(0, 8, (n,))] + 0.01 * torch.randn(n, 2)
bce = nn.functional.binary_cross_entropy_with_logits
for t in range(steps):
    x = real(512); z = torch.randn(512, 256)
    if update == "sim":
        fake = G(z)
        ld = bce(D(x), torch.ones(512, 1)) + bce(D(fake.detach()), torch.zeros(512, 1))
        lg = bce(D(fake), torch.ones(512, 1))
        od.zero_grad(); og.zero_grad()
        gd = torch.autograd.grad(ld, list(D.parameters()))
        gg = torch.autograd.grad(lg, list(G.parameters()))
        for p, g in zip(D.parameters(), gd): p.grad = g
        for p, g in zip(G.parameters(), gg): p.grad = g
        od.step(); og.step()
    else:
        ld = bce(D(x), torch.ones(512, 1)) + bce(D(G(z).detach()), torch.zeros(512, 1))
        od.zero_grad(); ld.backward(); od.step()
        lg = bce(D(G(torch.randn(512, 256))), torch.ones(512, 1))
        og.zero_grad(); lg.backward(); og.step()
with torch.no_grad():
    s = G(torch.randn(2500, 256))
d = torch.cdist(s, C).min(1).values
hq = (d < 0.03).float().mean().item()
modes = len(set(torch.cdist(s, C).argmin(1)[d < 0.03].tolist()))
print(init, update, steps, "sd", s.std(0).numpy().round(2), "modes", modes, "hq", round(hq, 3), flush=True)
