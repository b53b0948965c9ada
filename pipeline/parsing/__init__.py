"""The 10-label semantic maps of the `parse` stage (docs/method.md §2).

- :mod:`~pipeline.parsing.label_sets`: reading external parsers' label maps (LIP, CIHP, ATR)
  and mapping them to the 10 labels (the names re-exported here);
- :mod:`~pipeline.parsing.coarse`: the weight-free coarse parser (docs/coarse-parser.md), with
  its steps in :mod:`~pipeline.parsing.virtual_torso`, :mod:`~pipeline.parsing.person_mask`,
  :mod:`~pipeline.parsing.body_frame`, :mod:`~pipeline.parsing.colour_models` and
  :mod:`~pipeline.parsing.label_assignment`;
- :mod:`~pipeline.parsing.stage`: the stage library (-> parsing.h5).
"""
from pipeline.parsing.label_sets import (DEFAULT_MAPPINGS, LABEL_SETS, map_labels, read_label_map,
                                         validate_mapping, write_label_map)

__all__ = ["DEFAULT_MAPPINGS", "LABEL_SETS", "map_labels", "read_label_map", "validate_mapping",
           "write_label_map"]
