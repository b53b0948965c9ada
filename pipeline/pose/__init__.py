"""Offline pose detection (18 OpenPose/COCO points, docs/method.md §1 and 7)."""
from pipeline.pose.mediapipe_detector import Detection, MediaPipeDetector

__all__ = ["Detection", "MediaPipeDetector"]
