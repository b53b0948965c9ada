"""The embedded synthetic people dataset, with exact ground truth (parsing, keypoints, views).

No real dataset can be downloaded, so the pipeline draws its own people from a seed:
identities (identity.py) posed by a joint-angle prior (prior.py) or by real annotated poses
completed to full skeletons (realpose.py), rasterised into labels and colours (canvas.py,
materials.py, render.py), assembled into a dataset with an identity split and test pairs
(dataset.py), written atomically (writer.py), and re-rendered on demand by the oracle
(oracle.py).

    from pipeline.synthetic import generate, write_dataset, Oracle
    ds = generate(params.data.synthetic, 256, 256)
    write_dataset(ds, Path("data/raw/synthetic"), params_dict)
"""
from pipeline.synthetic.dataset import SyntheticDataset, generate, generate_identity, image_name
from pipeline.synthetic.identity import Identity
from pipeline.synthetic.oracle import Oracle
from pipeline.synthetic.realpose import complete_skeleton, rescale_keypoints
from pipeline.synthetic.render import Rendering, render_person
from pipeline.synthetic.skeleton import VIEW_NAMES, View, derive_view
from pipeline.synthetic.writer import write_dataset

__all__ = ["SyntheticDataset", "generate", "generate_identity", "image_name", "Identity",
           "Oracle", "complete_skeleton", "rescale_keypoints", "Rendering", "render_person",
           "VIEW_NAMES", "View", "derive_view", "write_dataset"]
