"""Networks of SPT, found by name through :mod:`pipeline.models.registry`.

- :mod:`.blocks`: conv / transposed-conv blocks, normalisation by name, pix2pix initialisation.
- :mod:`.semantic`: the semantic generative network (E_S, E_P, G_S) and its discriminator D_S.
- :mod:`.vgg`: frozen VGG16 features for the content and style losses (not in the registry:
  never trained, never saved).
"""
