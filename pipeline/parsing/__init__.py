"""External human-parser label sets and their mapping to SPT's 10 labels (SPEC 2)."""
from pipeline.parsing.label_sets import (DEFAULT_MAPPINGS, LABEL_SETS, map_labels, read_label_map,
                                         validate_mapping, write_label_map)

__all__ = ["DEFAULT_MAPPINGS", "LABEL_SETS", "map_labels", "read_label_map", "validate_mapping",
           "write_label_map"]
