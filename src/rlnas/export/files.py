"""Write a trained model in the formats people deploy, each checked against the model itself.

Weights go to safetensors (plain tensors, no pickle), the network to TorchScript, ONNX and a
standalone ``model.py``. Every format is loaded back and run on the example input; an output that
differs from PyTorch's by more than ``tolerance`` is an error, not a file left for the user to find.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from rlnas.export.source import ExportError, standalone_source

WEIGHTS = "model.safetensors"
TORCHSCRIPT = "model.torchscript.pt"
ONNX = "model.onnx"
SOURCE = "model.py"
ARCHITECTURE = "architecture.json"


@dataclass(frozen=True)
class ExportedModel:
    """The files written and, per format, the largest absolute difference from PyTorch's output."""

    directory: Path
    files: tuple[Path, ...]
    differences: Mapping[str, float] = field(default_factory=dict)


def export_model(
    model: nn.Module,
    example_input: torch.Tensor,
    architecture_json: str | Mapping[str, Any],
    out_dir: str | Path,
    *,
    tolerance: float = 1e-5,
) -> ExportedModel:
    """Export ``model`` (in eval mode) to safetensors, TorchScript, ONNX and standalone source.

    ``example_input`` is one batch the model accepts; ONNX gets a dynamic batch dimension.
    ``architecture_json`` is written as ``architecture.json``. The model must be traceable by
    ``torch.fx`` and take a single tensor; its training mode is restored afterwards.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            expected = model(example_input)
        if not isinstance(expected, torch.Tensor):
            raise ExportError("export needs a model whose forward returns one tensor")
        source = standalone_source(model)
        files = [
            _write_architecture(architecture_json, out / ARCHITECTURE),
            _write_weights(model, out / WEIGHTS),
        ]
        differences = {}
        for name, write in (
            ("torchscript", _write_torchscript),
            ("onnx", _write_onnx),
        ):
            path, output = write(model, example_input, out)
            files.append(path)
            differences[name] = _compare(name, expected, output, tolerance)
        (out / SOURCE).write_text(source)
        files.append(out / SOURCE)
        output = _run_source(source, out / WEIGHTS, example_input)
        differences["source"] = _compare("the standalone source", expected, output, tolerance)
    finally:
        model.train(was_training)
    return ExportedModel(out, tuple(files), differences)


def _write_architecture(architecture: str | Mapping[str, Any], path: Path) -> Path:
    data = json.loads(architecture) if isinstance(architecture, str) else dict(architecture)
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    return path


def _write_weights(model: nn.Module, path: Path) -> Path:
    from safetensors.torch import save

    # Clones, because safetensors refuses tensors that share memory (tied or viewed weights).
    state = {key: value.detach().clone().contiguous() for key, value in model.state_dict().items()}
    # Written like the other files (the umask's permissions): save_file makes it owner-only.
    path.write_bytes(save(state))
    return path


def _write_torchscript(
    model: nn.Module, example_input: torch.Tensor, out: Path
) -> tuple[Path, torch.Tensor]:
    path = out / TORCHSCRIPT
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit's deprecation notice
        traced = torch.jit.trace(model, example_input)
        torch.jit.save(traced, str(path))
        loaded = torch.jit.load(str(path))
        return path, loaded(example_input)


def _write_onnx(
    model: nn.Module, example_input: torch.Tensor, out: Path
) -> tuple[Path, torch.Tensor]:
    """ONNX through the TorchScript-based exporter: unlike the dynamo one it needs no onnxscript
    and prints nothing. The file is validated by onnx.checker and run by onnxruntime."""
    import onnx
    import onnxruntime

    path = out / ONNX
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation notice
        torch.onnx.export(
            model,
            (example_input,),
            str(path),
            dynamo=False,
            input_names=["input"],
            output_names=["output"],
            dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
        )
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (output,) = session.run(None, {"input": example_input.detach().cpu().numpy()})
    return path, torch.from_numpy(output)


def _run_source(source: str, weights: Path, example_input: torch.Tensor) -> torch.Tensor:
    """Run the standalone source as its own module: build, load the weights, predict."""
    namespace: dict[str, Any] = {"__name__": "rlnas_exported_model"}
    exec(compile(source, SOURCE, "exec"), namespace)
    rebuilt = namespace["load"](weights, device=str(example_input.device))
    with torch.no_grad():
        return rebuilt(example_input)


def _compare(name: str, expected: torch.Tensor, got: torch.Tensor, tolerance: float) -> float:
    got = got.to(expected.device)
    if got.shape != expected.shape:
        raise ExportError(
            f"{name} output has shape {tuple(got.shape)}, PyTorch's {tuple(expected.shape)}"
        )
    got, expected = got.double(), expected.double()
    difference = float((got - expected).abs().max()) if got.numel() else 0.0
    if not torch.allclose(got, expected, rtol=tolerance, atol=tolerance):
        raise ExportError(
            f"{name} output differs from PyTorch's by up to {difference:.3g} "
            f"(tolerance {tolerance:g} absolute and relative)"
        )
    return difference
