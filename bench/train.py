"""Throughput of the appearance stage's training step per profile, and its cost by component.

    python bench/train.py --threads 1          # CPU: ~0.5 min default, ~4 + ~3 min paper
    python bench/train.py --phase pretrain                             # e2e before G_S joins
    python bench/train.py --device cuda --amp bf16 --channels-last --workers 6 \\
        --iters 100 --paper-iters 40

For each profile of :data:`pipeline.profiles.PROFILES` (its ``semantic``, ``posenet``,
``appearance`` and ``loss`` sections applied to params.yaml's), runs the stage's own code on
data/prepared (run `dvc repro` first): :func:`pair_datasets`, the resumable sampler, the
DataLoader, :class:`AppearanceScheme` and the training loop, with ``--scheme`` (default e2e).

The frozen networks have the profile's sizes and RANDOM weights: G_S
(:class:`SemanticGenerator` of the profile's ``semantic`` section) and the pose detector
(:class:`PoseNet` of its ``posenet`` section); models/*.safetensors hold the default
profile's networks only, and the time of a step does not depend on the weights. VGG16 is the
real one (``loss.vgg_weights``). e2e's joint phase (G_S trained too) costs more than its
first phase (G_S frozen, forward only): ``--phase joint`` (default) or ``pretrain`` sets
``appearance.joint_iterations`` to every step or to none, so that all steps, warm-up and timed,
fall in the phase asked for.

Prints two Markdown tables; nothing is written.

1. Throughput: iterations/s, pairs/s (each pair gives two generated images: the cycle),
   milliseconds per step and the share of step time spent waiting for the next batch. The
   ``--warmup`` steps first are not timed.
2. One step by component. The first warm-up step runs with forward hooks that record every
   call of each network (its inputs, which of them need gradients, whether its weights are
   trained in that call, and whether gradients are on), and a wrapper that records G_A's calls of
   :func:`pipeline.models.deformable.deform_features` (the part warps of its skips: the
   E_A feature lists as G_A passes them). Each recorded call is then replayed ALONE, on copies
   of its inputs, under the same autocast and gradient settings: its forward, then the backward
   of its outputs (into the inputs and weights that need gradients in the step, as the step's
   backward passes do), timed with CUDA synchronised around each. The style loss
   (:func:`pipeline.losses.style.region_style_loss`, two calls per step) is recorded and
   replayed the same way. The whole step is the mean of the timed steps of table 1, less
   their data wait. "rest" is the whole step less the components: the other losses (MSE, LSGAN,
   cross-entropy), the face crops, the upsampling of S_t, the optimiser updates, and the
   difference between calls alone and in the step (it can be slightly negative). The part
   warps are inside G_A's time and not counted twice. Shares are of the whole step.
"""
from __future__ import annotations

import argparse
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator
from unittest import mock

import torch
from torch import nn

import pipeline.models.appearance as appearance_models
import pipeline.training.appearance.scheme as appearance_scheme
from pipeline.artifacts.paths import Paths
from pipeline.config.params import Params, load_params
from pipeline.models.posenet import PoseNet
from pipeline.models.semantic import SemanticDiscriminator, SemanticGenerator
from pipeline.models.vgg import VGGFeatures
from pipeline.profiles import PROFILES
from pipeline.torch_utils.device import autocast
from pipeline.torch_utils.misc import set_deterministic
from pipeline.appearance_schemes import SCHEMES
from pipeline.training.appearance.scheme import AppearanceScheme, Frozen
from pipeline.training.appearance.stage import (AppearanceStage, pair_datasets, semantic_arch,
                                               trains_semantic_discriminator)
from pipeline.training.loop import LoopConfig, train
from pipeline.training.posenet.scheme import arch_of as posenet_arch_of
from pipeline.training.process import training_process
from pipeline.training.semantic.scheme import arch_of as semantic_arch_of

#: Sections of a profile applied here (all of them: the frozen networks' sizes come from
#: ``semantic`` and ``posenet``).
SECTIONS = ("semantic", "posenet", "appearance", "loss")


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def profile_params(name: str, args: argparse.Namespace, steps: int) -> Params:
    """params.yaml with profile ``name``'s sections, ``--scheme`` and the execution flags;
    ``appearance.iterations`` = ``steps`` (all steps this bench runs) and ``joint_iterations`` so that
    every step falls in ``--phase``."""
    params = load_params(args.params)
    update: dict[str, Any] = {}
    for section in SECTIONS:
        over = dict(PROFILES[name].get(section, {}))
        if section == "appearance":
            over.update(scheme=args.scheme, device=args.device, amp=args.amp,
                        channels_last=args.channels_last, iterations=steps,
                        joint_iterations=steps if args.phase == "joint" else 0)
            if args.workers is not None:
                over["workers"] = args.workers
            if args.threads is not None:
                over["threads"] = args.threads
        if section == "loss":
            # the step's cost does not depend on the VGG weights: the offline trunk of the
            # same shape times the paper profiles too (random_frozen)
            over["require_imagenet_vgg"] = False
        update[section] = getattr(params, section).model_copy(update=over)
    return params.model_copy(update=update)


def random_frozen(params: Params) -> Frozen:
    """VGG16 (real weights: ``loss.vgg_weights``, or the offline trunk of the same shape when
    it is empty, whatever ``loss.require_imagenet_vgg`` says: the time of a step does not
    depend on the weights) and, at the profile's sizes with random weights, the pose detector
    (when ``loss.pose`` > 0), G_S (when the scheme uses it) and D_S (e2e's joint phase)."""
    torch.manual_seed(params.appearance.seed)
    vgg = VGGFeatures(params.loss.vgg_weights, input_range=params.loss.vgg_input)
    posenet = PoseNet(posenet_arch_of(params.posenet)) if params.loss.pose > 0 else None
    semantic = (SemanticGenerator(semantic_arch_of(params.semantic))
                if SCHEMES[params.appearance.scheme].uses_semantic_network else None)
    disc = (SemanticDiscriminator(semantic_arch_of(params.semantic))
            if trains_semantic_discriminator(params) else None)
    return Frozen(vgg, posenet, semantic, disc)


# ------------------------------------------------------------------ recording calls
@dataclass
class Call:
    """One recorded call: copies of its inputs (tensors as :class:`_Leaf`), whether
    gradients were on, and whether the called module's weights were trained (None: a function)."""

    args: tuple
    kwargs: dict
    grad_enabled: bool
    weights_trained: bool | None


@dataclass
class Component:
    """A network of the step (``module``), or a function (``fn``, recorded by replacing it in
    the namespace ``where`` that calls it): its recorded calls and the replay times. inside:
    part of another component's time (not summed twice)."""

    name: str
    fn: Callable[..., Any]
    module: nn.Module | None = None
    where: Any = None
    inside: bool = False
    calls: list[Call] = field(default_factory=list)
    forward_s: float = 0.0
    backward_s: float = 0.0


@dataclass
class _Leaf:
    """A recorded tensor input: a copy, and whether the original needed a gradient."""

    tensor: torch.Tensor
    grad: bool


def _snapshot(obj: Any) -> Any:
    if isinstance(obj, torch.Tensor):
        return _Leaf(obj.detach().clone(), obj.requires_grad)
    if isinstance(obj, (list, tuple)):
        return type(obj)(_snapshot(o) for o in obj)
    if isinstance(obj, dict):
        return {k: _snapshot(v) for k, v in obj.items()}
    return obj


def _materialise(obj: Any) -> Any:
    """Fresh inputs from a snapshot: leaves that need a gradient where the originals did."""
    if isinstance(obj, _Leaf):
        t = obj.tensor.clone()
        return t.requires_grad_(True) if obj.grad else t
    if isinstance(obj, (list, tuple)):
        return type(obj)(_materialise(o) for o in obj)
    if isinstance(obj, dict):
        return {k: _materialise(v) for k, v in obj.items()}
    return obj


def _tensors(obj: Any) -> list[torch.Tensor]:
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for o in obj for t in _tensors(o)]
    if isinstance(obj, dict):
        return [t for o in obj.values() for t in _tensors(o)]
    return []


def _trained(module: nn.Module) -> bool:
    return any(p.requires_grad for p in module.parameters())


@contextmanager
def recording(components: list[Component]) -> Iterator[None]:
    """Record the calls of every component while active: forward pre-hooks on the modules, and
    wrappers of the functions in the namespaces that call them."""
    with ExitStack() as stack:
        for comp in components:
            if comp.module is not None:

                def hook(module: nn.Module, args: tuple, kwargs: dict,
                         comp: Component = comp) -> None:
                    comp.calls.append(Call(_snapshot(args), _snapshot(kwargs),
                                           torch.is_grad_enabled(), _trained(module)))

                handle = comp.module.register_forward_pre_hook(hook, with_kwargs=True)
                stack.callback(handle.remove)
            else:

                def wrapper(*args: Any, comp: Component = comp, **kwargs: Any) -> Any:
                    comp.calls.append(Call(_snapshot(args), _snapshot(kwargs),
                                           torch.is_grad_enabled(), None))
                    return comp.fn(*args, **kwargs)

                stack.enter_context(mock.patch.object(comp.where, comp.fn.__name__, wrapper))
        yield


def replay(comp: Component, device: torch.device, amp: str) -> tuple[float, float]:
    """(forward s, backward s) of all the component's recorded calls, each alone."""
    fwd = bwd = 0.0
    was = [p.requires_grad for p in comp.module.parameters()] if comp.module else []
    try:
        for call in comp.calls:
            if comp.module is not None:
                for p in comp.module.parameters():
                    p.requires_grad_(bool(call.weights_trained))
            args, kwargs = _materialise(call.args), _materialise(call.kwargs)
            with torch.set_grad_enabled(call.grad_enabled):
                _sync(device)
                t0 = time.perf_counter()
                with autocast(device, amp):
                    out = comp.fn(*args, **kwargs)
                _sync(device)
                t1 = time.perf_counter()
                outs = [o for o in _tensors(out) if o.requires_grad]
                if outs:
                    torch.autograd.backward(outs, [torch.ones_like(o) for o in outs])
                _sync(device)
                t2 = time.perf_counter()
            fwd, bwd = fwd + t1 - t0, bwd + t2 - t1
    finally:
        if comp.module is not None:
            for p, flag in zip(comp.module.parameters(), was):
                p.requires_grad_(flag)
                p.grad = None
    return fwd, bwd


def components_of(scheme: AppearanceScheme) -> list[Component]:
    """The networks of one step (those the scheme has), G_A's part warps (inside G_A) and the
    style loss (region Gram matrices)."""
    nets: list[tuple[str, nn.Module | None]] = [
        ("G_A (E_A, E'_S, decoder)", scheme.networks["generator"]),
        ("G_S", scheme.frozen.semantic),
        ("D_A", scheme.networks["discriminator"]),
        ("D_F", scheme.networks.get("face_discriminator")),
        ("VGG16 (to relu2_1)", scheme.frozen.vgg),
        ("pose detector", scheme.frozen.posenet)]
    comps = [Component(name, net, net) for name, net in nets if net is not None]
    comps.insert(1, Component("  of which part warps (deform_features)",
                              appearance_models.deform_features, where=appearance_models,
                              inside=True))
    comps.append(Component(f"style loss ({scheme.style} regions, Gram matrices)",
                           appearance_scheme.region_style_loss, where=appearance_scheme))
    return comps


def replay_all(comps: list[Component], device: torch.device, amp: str, reps: int) -> None:
    """Replay every component's recorded calls ``reps`` times; their mean times per step go
    into ``forward_s`` / ``backward_s``."""
    for _ in range(reps):
        for comp in comps:
            f, b = replay(comp, device, amp)
            comp.forward_s += f / reps
            comp.backward_s += b / reps


def _first_leaf(obj: Any) -> _Leaf | None:
    if isinstance(obj, _Leaf):
        return obj
    items = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, (list, tuple)) \
        else ()
    for o in items:
        leaf = _first_leaf(o)
        if leaf is not None:
            return leaf
    return None


def _batches(comp: Component) -> str:
    """"calls (batch of each)" of a component, e.g. "2 (4, 4)"."""
    sizes = []
    for call in comp.calls:
        leaf = _first_leaf((call.args, call.kwargs))
        sizes.append(str(leaf.tensor.shape[0]) if leaf is not None else "?")
    return f"{len(comp.calls)} ({', '.join(sizes)})" if sizes else "0"


# ------------------------------------------------------------------ one profile
def bench_profile(name: str, args: argparse.Namespace) -> tuple[dict, list[dict]]:
    iters = args.iters if name == "default" else args.paper_iters
    reps = args.reps if name == "default" else args.paper_reps
    steps = args.warmup + iters                            # every step of the scheme here
    params = profile_params(name, args, steps)
    tp = params.appearance
    with training_process(tp.device, tp.threads) as dist:
        set_deterministic(dist.device.type == "cpu" and args.deterministic)
        frozen = random_frozen(params)
        dataset = pair_datasets(params, Paths(Path(args.root)), semantic_arch(frozen), True)
        stage = AppearanceStage()
        stage.frozen = frozen
        tr = stage.build(params, dist, dataset)
        scheme = tr.scheme
        quiet = dict(progress=False, log_every=10 ** 9)
        comps = components_of(scheme)
        with recording(comps):                           # the first warm-up step
            train(scheme, tr.loader, tr.sampler, LoopConfig(iterations=1, **quiet))
        if args.warmup > 1:
            train(scheme, tr.loader, tr.sampler, LoopConfig(iterations=args.warmup - 1, **quiet))
        phase = ("joint" if scheme.joint else "pretrain") if tp.scheme == "e2e" else "-"
        _sync(dist.device)
        t0 = time.perf_counter()
        res = train(scheme, tr.loader, tr.sampler, LoopConfig(iterations=iters, **quiet))
        _sync(dist.device)
        wall = time.perf_counter() - t0
        step_s = (res.step_seconds - res.data_seconds) / res.steps_timed
        replay_all(comps, dist.device, scheme.amp, reps)
    n_g = sum(p.numel() for p in scheme.generator.parameters())
    n_d = sum(p.numel() for k, net in scheme.networks.items() if "discriminator" in k
              for p in net.parameters())
    sem = (f"{params.semantic.height}x{params.semantic.width}"
           if frozen.semantic is not None else "-")
    row = {"profile": name, "scheme": tp.scheme, "phase": phase,
           "images": f"{tp.height}x{tp.width}", "G_S maps": sem,
           "width, depth": f"{tp.channels}-{tp.max_channels}, {tp.depth}",
           "batch": tp.batch_size, "G_A params (M)": round(n_g / 1e6, 2),
           "D params (M)": round(n_d / 1e6, 2), "it/s": round(iters / wall, 3),
           "pairs/s": round(iters * tp.batch_size / wall, 2),
           "ms/step": round(1000 * wall / iters, 1),
           "data wait": f"{100 * res.data_seconds / max(res.step_seconds, 1e-9):.1f}%",
           "device": str(dist.device), "amp": tp.amp, "workers": tp.workers,
           "threads": tp.threads}
    rows = []
    counted = 0.0
    for comp in comps:
        total = comp.forward_s + comp.backward_s
        if not comp.inside:
            counted += total
        rows.append({"profile": name, "component": comp.name, "calls (batch)": _batches(comp),
                     "forward ms": round(1000 * comp.forward_s, 1),
                     "backward ms": round(1000 * comp.backward_s, 1),
                     "ms": round(1000 * total, 1), "share": f"{100 * total / step_s:.1f}%"})
    rest = step_s - counted
    rows.append({"profile": name, "component": "rest (other losses, crops, Adam, ...)",
                 "calls (batch)": "", "forward ms": "", "backward ms": "",
                 "ms": round(1000 * rest, 1), "share": f"{100 * rest / step_s:.1f}%"})
    rows.append({"profile": name, "component": "**whole step**", "calls (batch)": "",
                 "forward ms": "", "backward ms": "", "ms": round(1000 * step_s, 1),
                 "share": "100%"})
    return row, rows


def _table(rows: list[dict]) -> None:
    keys = list(rows[0])
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for r in rows:
        print("| " + " | ".join(str(r[k]) for k in keys) + " |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scheme", default="e2e", choices=list(SCHEMES))
    ap.add_argument("--phase", default="joint", choices=("pretrain", "joint"),
                    help="e2e: time the first phase (G_S frozen) or the joint one")
    ap.add_argument("--device", default="cpu", choices=("auto", "cpu", "cuda"))
    ap.add_argument("--amp", default="off", choices=("off", "bf16", "fp16"))
    ap.add_argument("--channels-last", action="store_true")
    ap.add_argument("--iters", type=int, default=10, help="timed steps (default profile)")
    ap.add_argument("--paper-iters", type=int, default=1,
                    help="timed steps of the paper profiles (default 1: a minute or more "
                         "each on one CPU thread)")
    ap.add_argument("--warmup", type=int, default=1,
                    help="untimed steps first (>= 1: the first one is recorded)")
    ap.add_argument("--reps", type=int, default=3,
                    help="replays of the recorded step averaged in the breakdown (default "
                         "profile)")
    ap.add_argument("--paper-reps", type=int, default=1,
                    help="the same for the paper profiles (default 1)")
    ap.add_argument("--workers", type=int, default=None, help="DataLoader workers")
    ap.add_argument("--threads", type=int, default=None, help="CPU intra-op threads")
    ap.add_argument("--profiles", default=",".join(PROFILES),
                    help=f"comma-separated, of: {', '.join(PROFILES)}")
    ap.add_argument("--no-deterministic", dest="deterministic", action="store_false",
                    help="CPU: allow non-deterministic kernels (the stage never does)")
    ap.add_argument("--root", default=".", help="project root holding data/prepared")
    ap.add_argument("--params", default="params.yaml")
    args = ap.parse_args()
    if min(args.iters, args.paper_iters, args.reps, args.paper_reps, args.warmup) < 1:
        ap.error("--iters, --paper-iters, --reps, --paper-reps and --warmup must be >= 1")
    results = [bench_profile(name.strip(), args) for name in args.profiles.split(",")]
    print(f"Throughput ({args.scheme}, frozen G_S and pose detector with random weights):\n")
    _table([r for r, _ in results])
    print("\nOne step by component (each network's calls replayed alone; ms per step):\n")
    _table([row for _, rows in results for row in rows])


if __name__ == "__main__":
    main()
