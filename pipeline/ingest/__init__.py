"""Stage `ingest`: a dataset folder (synthetic, DeepFashion, Market-1501, photos) -> images.h5."""
