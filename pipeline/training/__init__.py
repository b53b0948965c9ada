"""Training of SPT's networks: one engine, one subpackage per network.

- :mod:`.stage`: the training-stage template (data, seeds, loop, model file, scores, eval
  folder); :mod:`.process`: process setup, run identity, loader, work folder.
- :mod:`.scheme`: the training-scheme template (set_input, optimize_parameters, predict);
  :mod:`.loop`: device, AMP, DDP, resume, progress, loss history, sample grids, checkpoints;
  :mod:`.checkpoint`: atomic checkpoints loaded with ``weights_only``;
  :mod:`.logging`: DVCLive curves and metrics, published as one finished folder.
- :mod:`.semantic`, :mod:`.posenet`, :mod:`.appearance`: each network's ``scheme`` (its
  networks, losses and optimisers) and ``stage`` (what its training stage fills in).

Inference on the trained model files is :mod:`pipeline.inference`; the scores of held-out
pairs against the references that need no learning are :mod:`pipeline.evaluation.scoring`.
"""
