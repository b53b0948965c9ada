"""Metrics, one file per metric.

- :mod:`.parsing`: pixel accuracy and IoU per label / mIoU of label maps.
- :mod:`.pckh`: PCKh@alpha of keypoints (as Pose-Transfer computes it).
- :mod:`.ssim`, :mod:`.l1`: SSIM / mask-SSIM (docs/method.md §6 settings) and L1 of uint8 images;
  :mod:`.images` accumulates them over batches.
- :mod:`.fid`: FID of generated images vs their targets, with the pinned offline Inception
  (:mod:`.inception`: weights location and sha256, input preparation).
- :mod:`.inception_score`: IS / mask-IS, only from a local Inception-logits file.
- :mod:`.lpips`: shift-tolerant LPIPS (stlpips-pytorch weights), per pair.
- :mod:`.peer_ssim`: peer-compatible SSIM (per-image data range, DeepFashion white padding).

Every accumulator has ``update(...)`` and ``result() -> dict``. The `evaluate` stage builds
its set from the registry :data:`pipeline.evaluation.metric_set.IMAGE_METRICS`.
"""
