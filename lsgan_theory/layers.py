"""The package's layers, bottom to top: a module imports only from its own layer or the layers below, and only public
names of other units.  ``tests/test_layers.py`` walks every module's imports (including those inside functions) and
fails on a violation.  See the README's "How the code is organised".

A *unit* is a top-level module or subpackage of ``lsgan_theory`` (``_claims`` belongs to the ``claims`` unit,
``_losscompile`` -- the formula compiler -- to ``losses``, ``_lpsolver`` -- the LP engine -- to ``nonparametric``).  Inside
a unit, private names may be shared; across units only public names (no leading underscore) may be imported or used.
The package root (``lsgan_theory/__init__.py``) is the curated public face: it re-exports entry points of every layer
lazily and is not itself a layer; any module may import ``__version__`` from it.
"""

__all__ = ["LAYERS", "UNIT_ALIASES", "layer_of"]

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("core", ("layers", "resources", "validate", "output", "provenance", "families", "densities", "divergences",
              "symbolic", "losses", "nonparametric", "equilibrium", "proofs")),
    ("engine", ("ensemble", "metrics")),
    ("studies", ("studies", "sweeps", "testing")),
    ("report", ("claims", "_claims", "plots", "report_html")),
    ("cli", ("cli", "__main__")),
)

UNIT_ALIASES = {"_claims": "claims", "_losscompile": "losses", "_lpsolver": "nonparametric"}


def layer_of(unit: str) -> int:
    """The index (0 = core) of the layer holding top-level unit ``unit``; ``KeyError`` if it is not listed."""
    for k, (_, units) in enumerate(LAYERS):
        if unit in units:
            return k
    raise KeyError(unit)
