"""Where the pipeline's files live and how its artifacts are written and read.

Modules, one job each:

- :mod:`~pipeline.artifacts.paths`: :class:`Paths`, every path of the project (prepared
  artifacts, models, eval), and the artifact file names;
- :mod:`~pipeline.artifacts.codes`: integer codes stored in artifacts (split, search status);
- :mod:`~pipeline.artifacts.atomic`: atomic writes of any file (temporary file + rename);
- :mod:`~pipeline.artifacts.store`: writing the HDF5 store (layout, provenance attributes,
  self-describing datasets; byte-identical for equal inputs);
- :mod:`~pipeline.artifacts.reader`: :class:`Artifact`, the lazy fork-safe reader;
- :mod:`~pipeline.artifacts.stage_writer`: :func:`stage_output`, the skeleton of every stage
  library;
- :mod:`~pipeline.artifacts.code_digest`: :func:`source_digest`, the code part of cache keys.

Every public name is re-exported here, so ``from pipeline.artifacts import X`` keeps working;
new code may import from the submodule that holds ``X``.
"""
from pipeline.artifacts.atomic import (atomic_path, atomic_write_json, atomic_write_text,
                                       json_default, remove_stale_temporaries,
                                       stale_temporaries)
from pipeline.artifacts.code_digest import source_digest
from pipeline.artifacts.codes import (SEARCH_STATUS_NAMES, SPLIT_NAMES, SPLIT_TEST, SPLIT_TRAIN,
                                      STATUS_NO_CANDIDATE, STATUS_NO_TORSO, STATUS_OK,
                                      STATUS_TEST)
from pipeline.artifacts.paths import ARTIFACT_FILES, PREPARED_DIR, Paths, artifact_path
from pipeline.artifacts.reader import Artifact, ArtifactError, open_aligned, read_strings
from pipeline.artifacts.stage_writer import StageOutput, stage_output
from pipeline.artifacts.store import (H5_LIBVER, LAYOUT_VERSION, atomic_h5, create_array,
                                      provenance, write_array, write_names, write_strings)

__all__ = [
    # paths
    "ARTIFACT_FILES", "PREPARED_DIR", "Paths", "artifact_path",
    # codes
    "SEARCH_STATUS_NAMES", "SPLIT_NAMES", "SPLIT_TEST", "SPLIT_TRAIN", "STATUS_NO_CANDIDATE",
    "STATUS_NO_TORSO", "STATUS_OK", "STATUS_TEST",
    # atomic files
    "atomic_path", "atomic_write_json", "atomic_write_text", "json_default",
    "remove_stale_temporaries", "stale_temporaries",
    # HDF5 store
    "H5_LIBVER", "LAYOUT_VERSION", "atomic_h5", "create_array", "provenance", "write_array",
    "write_names", "write_strings",
    # reading
    "Artifact", "ArtifactError", "open_aligned", "read_strings",
    # stage skeleton
    "StageOutput", "stage_output",
    # code digest
    "source_digest",
]
