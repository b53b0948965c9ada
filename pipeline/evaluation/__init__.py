"""Evaluation: what the learned models and the search are worth, against references that need
no learning.

- :mod:`.references`: the source unchanged and warped part by part (maps and images);
- :mod:`.scoring`: the scoring of pairs, used by the training stages and the `evaluate` stage;
- :mod:`.metric_set`: the registry of image metrics of the `evaluate` stage;
- :mod:`.stage`, :mod:`.unpaired`, :mod:`.report`: the `evaluate` stage, its unpaired oracle
  pairs and its report; :mod:`.grids`: pictures of pairs;
- :mod:`.search_report`, :mod:`.figures`: the pseudo targets of the search against the
  synthetic oracle.
"""
