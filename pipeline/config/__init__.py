"""params.yaml: the pipeline's single configuration source, validated on load.

Every key is typed and range-checked; an unknown key, a wrong type or an out-of-range value
raises :class:`pipeline.config.base.ParamsError` naming the file, the key, the value and what
is allowed.

One module per section, so that a stage's DVC code deps hold only the schema of the sections
it reads (adding a ``loss`` key reruns only the stages that read ``loss``):

- :mod:`~pipeline.config.base`: ParamsError, the section base, the execution mark,
  ``section_dict``, ``execution_keys``, the path checks (``dataset_path``);
- :mod:`~pipeline.config.data` (DataParams, SyntheticParams), :mod:`~pipeline.config.pose`,
  :mod:`~pipeline.config.parse`, :mod:`~pipeline.config.masks`,
  :mod:`~pipeline.config.search`, :mod:`~pipeline.config.semantic`,
  :mod:`~pipeline.config.posenet`, :mod:`~pipeline.config.appearance`,
  :mod:`~pipeline.config.loss`, :mod:`~pipeline.config.evaluate`: one section each;
  :mod:`~pipeline.config.training`: the execution keys shared by the three training sections;
- :mod:`~pipeline.config.rules`: the rules across sections (pose.backend vs data.source, ...);
- :mod:`~pipeline.config.loader`: ``load_sections(DataParams, PoseParams, ...)``, what a stage
  script calls: reads params.yaml and validates only the sections passed;
- :mod:`~pipeline.config.params`: the whole ``Params``, ``validate``, ``load_params`` and
  ``execution_keys()`` of all sections (the `validate` stage, tests, bench, applications).

Execution-only keys (how a stage runs, never what it produces: ``*.workers``,
``search.backend``, ...) are marked ``json_schema_extra=EXECUTION`` in the schema;
``execution_keys`` lists them. They are never DVC params of a stage, never part of an
artifact's recorded params and never part of a cache key.

This package imports nothing from a stage package (only the leaf
:mod:`pipeline.parser_labels`), and this file imports none of its modules: importing one
section imports only that section.
"""
