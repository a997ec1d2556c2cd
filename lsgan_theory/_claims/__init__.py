"""Claim checks, one module per area; importing this package registers them all (see ``lsgan_theory.claims``)."""

import importlib

_AREAS = ["foundation", "symbolic", "losses", "nonparametric", "ensemble", "theorem1", "sample_complexity", "capacity",
          "clsgan", "modes"]

for _area in _AREAS:
    try:
        importlib.import_module(f"{__name__}.{_area}")
    except ModuleNotFoundError as exc:  # an area not built yet registers nothing
        if exc.name != f"{__name__}.{_area}":
            raise
