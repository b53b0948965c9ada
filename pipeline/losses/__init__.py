"""Losses of SPT, one file per family; variants found by name.

- :mod:`.semantic_ce`: the pose-mask-weighted cross-entropy L_ce of the semantic network (docs/method.md §5).
- :mod:`.adversarial`: GAN losses (LSGAN default, vanilla) for generators and discriminators.
- :mod:`.content`: MSE of VGG16 features (relu2_1) of the cycle's reconstruction and the source.
- :mod:`.style`: Gram matrices per region (semantic | mask | patch) and their MSE.
- :mod:`.pose`: MSE of a frozen pose detector's heatmaps against the wanted pose.
"""
