"""The pose detector: its scheme and its stage `train_posenet`."""
