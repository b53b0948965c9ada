"""Inference on the trained networks: what evaluation, the applications and training share.

- :mod:`.model_files`: the trained networks as safetensors files, saved and rebuilt;
- :mod:`.trained`: the appearance stage's models loaded for inference (:class:`TrainedModels`);
- :mod:`.renderer`: the target maps and the cycle through G_A of each scheme (also what the
  training scheme runs);
- :mod:`.semantic_inputs`: how a batch feeds G_S (one-hot maps, the call);
- :mod:`.pose_detector`: the trained pose detector as a keypoint finder.
"""
