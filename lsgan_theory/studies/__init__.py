"""Studies: experiments built on the engine (:mod:`lsgan_theory.ensemble`) and the core mathematics, each a function
that returns a result object holding its data: statistics, tolerances, alternatives and, where a study reads a
measurement against a bound of THEORY.md, that reading (consistent / violated / inconclusive / not testable).  Claims
(:mod:`lsgan_theory.claims`) alone decide pass or fail and :mod:`lsgan_theory.plots` draws; nothing here decides a
verdict or draws a figure (``tests/test_structure.py``).

* :mod:`~lsgan_theory.studies.critic` -- the optimal-critic checks (trained D against closed-form D*; trained LS-GAN
  loss networks against the exact LP);
* :mod:`~lsgan_theory.studies.nonparametric` -- allocation on demand (critic and generator side), the saturated
  discriminator baseline, the generalisation study of the non-parametric LS-GAN;
* :mod:`~lsgan_theory.studies.runs` -- grids of per-model values, evaluation of trained generators, results folders
  (``lsgan-theory train``);
* :mod:`~lsgan_theory.studies.modes` -- mode collapse on Mao's ring / PacGAN's grid across the loss zoo, metrics over
  training (``lsgan-theory modes``).
"""

from .critic import (CriticCheck, LossSensitiveCriticCheck, closed_form_critic, critic_statistics, custom_critic,
                     hinge_clipped_fraction, loss_sensitive_critic, optimal_critic)
from .nonparametric import (GeneratorAllocation, allocation_on_demand, candidate_slope,
                            generalisation_study, generator_allocation, quartile_ratio, train_sigmoid_discriminator)
from .runs import evaluate, grid_config, run_and_write
from .stats import fit_power

__all__ = ["CriticCheck", "LossSensitiveCriticCheck", "closed_form_critic", "critic_statistics", "custom_critic",
           "hinge_clipped_fraction", "loss_sensitive_critic", "optimal_critic", "GeneratorAllocation",
           "allocation_on_demand", "candidate_slope", "fit_power", "generalisation_study", "generator_allocation",
           "quartile_ratio", "train_sigmoid_discriminator", "evaluate", "grid_config", "run_and_write"]
