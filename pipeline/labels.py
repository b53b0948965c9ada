"""Names, display colours and left/right mirror tables of the 10 semantic labels, the 18
keypoints and the 10 body parts (docs/method.md §1-3).

Import these instead of spelling the lists out again::

    from pipeline.labels import LABEL_NAMES, NUM_LABELS, LABEL_COLORS, KEYPOINT_NAMES
    from pipeline.labels import LABEL_MIRROR, KEYPOINT_MIRROR, PART_MIRROR, PART_NAMES
"""
from __future__ import annotations

import numpy as np

#: The 10 semantic labels, index = label value [code, SPT demo; docs/method.md §2].
LABEL_NAMES: tuple[str, ...] = ("background", "face", "hair", "upperclothes", "pants", "skirt",
                                "leftArm", "rightArm", "leftLeg", "rightLeg")
NUM_LABELS: int = len(LABEL_NAMES)  # 10

#: One label constant per value (left/right = the person's own sides).
BACKGROUND, FACE, HAIR, UPPERCLOTHES, PANTS, SKIRT = 0, 1, 2, 3, 4, 5
LEFT_ARM, RIGHT_ARM, LEFT_LEG, RIGHT_LEG = 6, 7, 8, 9

#: Visualisation palette, (10, 3) uint8 RGB, row = label value. Taken from the LIP dataset's
#: palette for the LIP class each label comes from (Face, Hair, UpperClothes, Pants, Skirt,
#: Left-arm, Right-arm, Left-leg, Right-leg) [choice: LIP colours, so maps look familiar].
LABEL_COLORS: np.ndarray = np.array([
    [0, 0, 0],        # background
    [0, 0, 255],      # face
    [255, 0, 0],      # hair
    [255, 85, 0],     # upperclothes
    [0, 85, 85],      # pants
    [0, 128, 0],      # skirt
    [51, 170, 221],   # leftArm
    [0, 255, 255],    # rightArm
    [85, 255, 170],   # leftLeg
    [170, 255, 85],   # rightLeg
], dtype=np.uint8)
LABEL_COLORS.setflags(write=False)

#: The 18 OpenPose/COCO keypoints in docs/method.md §1 order [code]. R/L are the person's own sides.
#: Points 14-17 are the person's RIGHT eye, LEFT eye, RIGHT ear, LEFT ear, as in OpenPose's
#: COCO order and as the real annotation files show (in every frontal row of the DeepFashion
#: and Market-1501 samples, point 14 lies on Rsho's side of the nose). Deformable GAN's
#: `pose_utils.LABELS` (and docs/method.md §1) call them Leye, Reye, Lear, Rear; the index order is the
#: same and its code only uses them as a set, so nothing else changes.
KEYPOINT_NAMES: tuple[str, ...] = (
    "nose", "neck", "Rsho", "Relb", "Rwri", "Lsho", "Lelb", "Lwri", "Rhip", "Rkne", "Rank",
    "Lhip", "Lkne", "Lank", "Reye", "Leye", "Rear", "Lear")
NUM_KEYPOINTS: int = len(KEYPOINT_NAMES)  # 18

#: The 10 rigid body parts in docs/method.md §3 order [code, Deformable GAN `pose_masks` /
#: `affine_transforms`]; index = part. pipeline.geometry.parts draws them.
PART_NAMES: tuple[str, ...] = (
    "torso", "head", "right_thigh", "left_thigh", "right_shin", "left_shin",
    "right_upper_arm", "left_upper_arm", "right_forearm", "left_forearm")
NUM_PARTS: int = len(PART_NAMES)  # 10


# --------------------------------------------------------------------------- mirror tables
# Left/right swaps for horizontal flips (flip augmentation, mirrored limbs in the affine fits).
# Each is an int index array and an involution (T[T] == arange): T[i] = the entry on the
# person's other side; entries without a side map to themselves. Apply them by indexing:
# ``LABEL_MIRROR[label_map]`` relabels a map, ``kp[KEYPOINT_MIRROR]`` / ``masks[PART_MIRROR]``
# reorder the keypoint / part axis. A horizontal flip of an image needs both the pixel flip
# and the table (the person's right arm becomes the mirrored person's left arm).

#: (10,) label -> mirrored label: leftArm <-> rightArm, leftLeg <-> rightLeg [docs/method.md §2 order].
LABEL_MIRROR: np.ndarray = np.array(
    [BACKGROUND, FACE, HAIR, UPPERCLOTHES, PANTS, SKIRT, RIGHT_ARM, LEFT_ARM, RIGHT_LEG,
     LEFT_LEG], dtype=np.intp)
LABEL_MIRROR.setflags(write=False)

#: (18,) keypoint -> mirrored keypoint: R* <-> L*; nose and neck stay [docs/method.md §1 order].
KEYPOINT_MIRROR: np.ndarray = np.array(
    [0, 1, 5, 6, 7, 2, 3, 4, 11, 12, 13, 8, 9, 10, 15, 14, 17, 16], dtype=np.intp)
KEYPOINT_MIRROR.setflags(write=False)

#: (10,) part -> mirrored part: right_* <-> left_*; torso and head stay [docs/method.md §3 order].
PART_MIRROR: np.ndarray = np.array([0, 1, 3, 2, 5, 4, 7, 6, 9, 8], dtype=np.intp)
PART_MIRROR.setflags(write=False)
