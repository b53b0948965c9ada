"""SPT pipeline: Unsupervised Person Image Generation with Semantic Parsing Transformation
(Song et al., CVPR 2019), reimplemented as a reproducible DVC pipeline."""

__version__ = "0.1.0"
