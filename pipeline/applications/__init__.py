"""The paper's applications on the trained models, one command line (``spt-apps``, or
``python -m pipeline.applications``): pose transfer of one image, clothing texture transfer,
controlled image manipulation, and ``parse`` (a person as the applications read it).

- :mod:`.person`: persons from a photo (MediaPipe + coarse parser), from arrays, from a row of
  the prepared data; :mod:`.framing`: a photo of any size into the working frame;
  :mod:`.poses`: target poses (annotation row / file, JSON, photo, prepared row).
- :mod:`.render`: the pair item (the datasets' own :func:`pipeline.datasets.pairs.pair_item`)
  rendered by :class:`pipeline.inference.trained.TrainedModels`.
- :mod:`.pose_transfer`, :mod:`.texture_transfer`, :mod:`.manipulation`: the applications.
- :mod:`.outputs`: result, label map, coloured map, side-by-side picture, info.json.
- :mod:`.cli`: the command line. Bad input: :class:`.errors.AppError`, one line, exit 2.
"""
