"""The semantic generative network G_S: its scheme and its stage `train_semantic`."""
