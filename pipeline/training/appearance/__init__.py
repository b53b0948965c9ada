"""The appearance generative network G_A: its scheme (the four schemes of
:data:`pipeline.appearance_schemes.SCHEMES`) and its stage `train_appearance`."""
