"""Losses of SPT, one file per family; variants found by name.

- :mod:`.semantic_ce`: the pose-mask-weighted cross-entropy L_ce of the semantic network (SPEC 5).
- :mod:`.adversarial`: GAN losses (LSGAN default, vanilla) for generators and discriminators.
"""
