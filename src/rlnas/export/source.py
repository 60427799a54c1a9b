"""A standalone PyTorch source file that rebuilds a model with nothing but torch (and safetensors).

The model is traced with ``torch.fx``: the generated class recreates every module under the same
attribute path, so the state_dict keys match exactly and the saved weights load with
``strict=True``, and its ``forward`` is the code fx generated from the traced graph. A torch.nn
layer is recreated from its ``repr``, which for the standard layers reads as its constructor call
(``Conv2d(1, 16, kernel_size=(3, 3), ...)``); each one is rebuilt and compared with the original
before it is written, and a layer whose repr does not rebuild it is refused with the reason.
"""

from __future__ import annotations

import ast
import inspect
import keyword
import math
import types
from collections.abc import Iterator
from typing import Any

import torch
import torch.fx
from torch import nn

from rlnas.errors import UserError


class ExportError(UserError):
    """The model cannot be exported: fx cannot trace it, or a layer of it cannot be rebuilt."""


# Containers are traced through and rebuilt as plain modules that hold the same children.
_CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict, nn.ParameterList, nn.ParameterDict)

_HEADER = '''"""{name}: a standalone PyTorch model written by rlnas export.

It needs torch only (and safetensors for ``load``): rebuild the network with ``{name}()``, or
``load("model.safetensors")`` for the trained one in eval mode.
"""
'''

_LOAD = '''

def load(weights_path, device="cpu"):
    """The trained model with the weights in ``weights_path`` (safetensors), in eval mode."""
    from safetensors.torch import load_file

    model = {name}()
    model.load_state_dict(load_file(str(weights_path), device=device))
    return model.to(device).eval()
'''


def standalone_source(model: nn.Module, class_name: str = "Model") -> str:
    """Python source of a module ``class_name`` that rebuilds ``model`` and a ``load`` helper."""
    try:
        graph_module = torch.fx.symbolic_trace(model)
    except Exception as error:  # fx raises many kinds on data-dependent control flow
        raise ExportError(
            f"torch.fx cannot trace {type(model).__name__} ({type(error).__name__}: {error}); "
            "export needs a forward without data-dependent control flow"
        ) from None
    called = {node.target for node in graph_module.graph.nodes if node.op == "call_module"}
    _check_attributes(model, graph_module)
    init = list(_init_lines(model, "", "self", called, torch.fx.Tracer()))
    for node in graph_module.graph.nodes:
        node.type = None  # annotations would name types the standalone file need not import
    code = graph_module.graph.python_code(root_module="self")
    forward, imports = _forward(code.src, code.globals)
    lines = [_HEADER.format(name=class_name), "import torch", "from torch import nn"]
    lines += sorted(imports - {"import torch"})
    lines += ["", "", f"class {class_name}(nn.Module):", "    def __init__(self):"]
    lines += ["        super().__init__()"] + ["        " + line for line in init]
    lines += ["", forward.rstrip(), _LOAD.format(name=class_name)]
    return "\n".join(lines)


def _check_attributes(model: nn.Module, graph_module: torch.fx.GraphModule) -> None:
    """Every tensor the forward reads must be a parameter or buffer the weights file holds."""
    state = set(model.state_dict(keep_vars=True))
    for node in graph_module.graph.nodes:
        if node.op == "get_attr" and node.target not in state:
            raise ExportError(
                f"the forward of {type(model).__name__} reads the tensor {node.target!r}, which "
                "is not a parameter or persistent buffer; register it with register_buffer"
            )


def _init_lines(
    module: nn.Module, path: str, expression: str, called: set[str], tracer: torch.fx.Tracer
) -> Iterator[str]:
    """Statements that give the module at ``expression`` the children, parameters and buffers
    that ``module`` has, recursing into everything that fx traced through."""
    for name, parameter in module._parameters.items():
        value = "None" if parameter is None else _parameter(parameter)
        yield _assign(expression, name, value, "register_parameter")
    for name, buffer in module._buffers.items():
        if name in module._non_persistent_buffers_set:
            where = f"{path}.{name}" if path else name
            raise ExportError(
                f"buffer {where!r} is not persistent, so the weights file cannot hold it; "
                "register it with persistent=True"
            )
        value = "None" if buffer is None else _empty(buffer)
        yield f"{expression}.register_buffer({name!r}, {value})"
    for name, child in module._modules.items():
        child_path = f"{path}.{name}" if path else name
        if child is None:
            yield _assign(expression, name, "None", "add_module")
        elif _rebuilt_from_repr(child, child_path, called, tracer):
            yield _assign(expression, name, _constructor(child, child_path), "add_module")
        else:
            yield _assign(expression, name, "nn.Module()", "add_module")
            child_expression = _attribute(expression, name)
            yield from _init_lines(child, child_path, child_expression, called, tracer)


def _rebuilt_from_repr(
    module: nn.Module, path: str, called: set[str], tracer: torch.fx.Tracer
) -> bool:
    if path in called:
        return True
    if isinstance(module, _CONTAINERS) or module._modules:
        return False
    return tracer.is_leaf_module(module, path)


def _constructor(module: nn.Module, path: str) -> str:
    """A call that builds a copy of ``module``: ``nn.<repr>``, which is one for the standard layers,
    else keyword arguments read from the attributes named like the constructor's parameters (a
    repr may print a string unquoted, ``padding=same``). Each is built and compared first."""
    layer = type(module)
    refuse = f"cannot export layer {path!r} ({layer.__name__}): "
    if not (layer.__module__.startswith("torch.nn") and getattr(nn, layer.__name__, None) is layer):
        raise ExportError(refuse + "only torch.nn layers can be rebuilt from their repr")
    problems = []
    for text in (repr(module), _from_attributes(module)):
        if text is None:
            continue
        if "\n" in text:
            problems.append("its repr spans several lines, so it is not a constructor call")
            continue
        call = "nn." + text
        try:
            rebuilt = eval(call, {"nn": nn, "torch": torch, "inf": math.inf})
        except Exception as error:
            problems.append(f"{call} is not a valid constructor call ({error})")
            continue
        problem = _difference(module, rebuilt)
        if problem is None:
            return call
        problems.append(f"{call} does not rebuild it: {problem}")
    raise ExportError(refuse + "; ".join(problems))


def _from_attributes(module: nn.Module) -> str | None:
    """``Layer(name=value, ...)`` from the attributes named like its constructor's parameters."""
    try:
        parameters = list(inspect.signature(type(module).__init__).parameters.values())[1:]
    except (TypeError, ValueError):
        return None
    arguments = []
    for parameter in parameters:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if parameter.name in ("device", "dtype") or not hasattr(module, parameter.name):
            if parameter.default is parameter.empty:
                return None
            continue
        value = getattr(module, parameter.name)
        if parameter.name == "bias" and (value is None or isinstance(value, torch.Tensor)):
            value = value is not None
        if isinstance(value, torch.Tensor | nn.Module):
            return None
        arguments.append(f"{parameter.name}={value!r}")
    return f"{type(module).__name__}({', '.join(arguments)})"


def _difference(original: nn.Module, rebuilt: nn.Module) -> str | None:
    """What differs between a layer and the one rebuilt from its repr, or None."""
    if type(original) is not type(rebuilt):
        return f"built a {type(rebuilt).__name__}"
    expected = {k: (v.shape, v.dtype) for k, v in original.state_dict().items()}
    got = {k: (v.shape, v.dtype) for k, v in rebuilt.state_dict().items()}
    if expected != got:
        return f"state_dict {got} instead of {expected}"
    for name, value in vars(original).items():
        if name.startswith("_") or name == "training" or isinstance(value, torch.Tensor):
            continue
        if getattr(rebuilt, name, _MISSING) != value:
            return f"attribute {name}={value!r} is not in the repr"
    return None


_MISSING = object()


def _parameter(parameter: torch.Tensor) -> str:
    grad = "" if parameter.requires_grad else ", requires_grad=False"
    return f"nn.Parameter({_empty(parameter)}{grad})"


def _empty(tensor: torch.Tensor) -> str:
    """An uninitialized tensor of the same shape and dtype: the weights file fills it."""
    return f"torch.empty({tuple(tensor.shape)}, dtype={tensor.dtype})"


def _attribute(expression: str, name: str) -> str:
    if _plain(name):
        return f"{expression}.{name}"
    return f"getattr({expression}, {name!r})"


def _assign(expression: str, name: str, value: str, register: str) -> str:
    """``self.conv = ...`` where the name allows it, else ``self.add_module("0", ...)``."""
    if _plain(name) and value != "None":
        return f"{expression}.{name} = {value}"
    return f"{expression}.{register}({name!r}, {value})"


def _plain(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name)


def _forward(source: str, namespace: dict[str, Any]) -> tuple[str, set[str]]:
    """fx's forward indented as a method, and the imports for the global names it uses."""
    used = {node.id for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Name)}
    imports = set()
    for name in sorted(used & set(namespace)):
        imports.add(_import(name, namespace[name]))
    body = "\n".join("    " + line if line.strip() else "" for line in source.strip().split("\n"))
    return body, imports


def _import(name: str, value: Any) -> str:
    """A statement that binds ``name`` to ``value`` without importing rlnas."""
    if isinstance(value, types.ModuleType):
        if value.__name__ == name:
            return f"import {name}"
        return f"import {value.__name__} as {name}"
    if isinstance(value, float):
        return f"{name} = float({str(value)!r})"
    if value is type(None):
        return f"{name} = type(None)"
    module = getattr(value, "__module__", None) or ""
    qualified = getattr(value, "__qualname__", "")
    if module.split(".")[0] == "rlnas":
        raise ExportError(
            f"the forward calls {module}.{qualified}, so the standalone source would need rlnas"
        )
    if not module or not qualified.isidentifier():
        raise ExportError(f"the forward uses {name} = {value!r}, which cannot be imported")
    if qualified == name:
        return f"from {module} import {name}"
    return f"from {module} import {qualified} as {name}"
