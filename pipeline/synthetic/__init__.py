"""The embedded synthetic people dataset, with exact ground truth (parsing, keypoints, views).

No real dataset can be downloaded, so the pipeline draws its own people from a seed:
identities (identity.py) posed by a joint-angle prior (prior.py) or by real annotated poses
completed to full skeletons (realpose.py), rasterised into labels and colours (canvas.py,
materials.py, render.py), assembled into a dataset with an identity split and test pairs
(dataset.py), written atomically (writer.py), read back by one reader (truth.py), and
re-rendered on demand by the oracle (oracle.py).

This file imports nothing: a stage that reads only the ground truth (truth.py) must not
depend on the generator's code. Import from the modules::

    from pipeline.synthetic.dataset import generate
    from pipeline.synthetic.writer import write_dataset
    from pipeline.synthetic.oracle import Oracle
    ds = generate(params.data.synthetic, 256, 256)
    write_dataset(ds, Path("data/raw/synthetic"), params_dict)
"""
