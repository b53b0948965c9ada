"""Training of SPT's networks: one loop for every scheme (CycleGAN-style templates).

- :mod:`.scheme`: the template (set_input, forward, optimize_parameters, predict).
- :mod:`.semantic`: the semantic scheme (G_S, D_S; SPEC 5) and its named profiles.
- :mod:`.loop`: device, AMP, DDP, resume, progress, loss history, sample grids, checkpoints.
- :mod:`.checkpoint`: atomic checkpoints loaded with ``weights_only``; safetensors model files.
- :mod:`.logging`: DVCLive curves and metrics, published as one finished folder.
- :mod:`.grids`: sample grid pictures. :mod:`.evaluate`: test-pair and oracle scores.
- :mod:`.stage`: the `train_semantic` stage library.
"""
