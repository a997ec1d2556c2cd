"""lsgan-theory: check the theory of GAN losses symbolically, numerically and empirically.

Two names are kept apart everywhere:

* **LS-GAN** -- the *Loss-Sensitive* GAN (G.-J. Qi, arXiv:1701.06264); code name ``loss_sensitive``.
* **LSGAN** -- the *Least-Squares* GAN (X. Mao et al., arXiv:1611.04076); code name ``least_squares``.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
