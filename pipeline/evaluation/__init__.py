"""Evaluation stage libraries: they score and draw what the other stages produced.

:mod:`.search_report` measures the pseudo targets of the search against the synthetic oracle;
:mod:`.figures` draws one pseudo target. The later evaluation of the networks lives here too.
"""
