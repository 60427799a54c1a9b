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
from typing import Any

import torch
import torch.fx
from torch import nn

from rlnas.errors import UserError
from rlnas.export.source_format import import_block, readable_forward, wrapped_call


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
    """Python source of a module ``class_name`` that rebuilds ``model`` and a ``load`` helper.

    It reads like code a person wrote: containers are ``nn.Sequential``, ``nn.ModuleList`` and
    ``nn.ModuleDict`` literals, the forward indexes them (``self.network[0].body[1]``), and every
    line fits in 100 characters.
    """
    try:
        graph_module = torch.fx.symbolic_trace(model)
    except Exception as error:  # fx raises many kinds on data-dependent control flow
        raise ExportError(
            f"torch.fx cannot trace {type(model).__name__} ({type(error).__name__}: {error}); "
            "export needs a forward without data-dependent control flow"
        ) from None
    called = {node.target for node in graph_module.graph.nodes if node.op == "call_module"}
    _check_attributes(model, graph_module)
    layout = _Layout(called)
    base, init = layout.init_lines(model)
    for node in graph_module.graph.nodes:
        node.type = None  # annotations would name types the standalone file need not import
    code = graph_module.graph.python_code(root_module="self")
    forward = readable_forward(code.src, layout.accessor)
    imports = _imports(forward, code.globals)
    if "torch." in "\n".join([*init, forward]):
        imports.add("import torch")
    lines = [_HEADER.format(name=class_name), *import_block(imports | {"from torch import nn"})]
    lines += ["", "", f"class {class_name}({base}):", "    def __init__(self):"]
    lines += [*init, "", forward, _LOAD.format(name=class_name)]
    return "\n".join(lines)


class _Layout:
    """The ``__init__`` of the source, and how the forward reaches each module.

    A container becomes a literal: ``nn.Sequential`` (children 0..n-1), ``nn.ModuleList``, or an
    ``nn.ModuleDict`` for any other module whose children fx traced through; the state_dict keys
    stay those of the model. A module that also holds its own parameters or buffers gets them
    registered in statements after its assignment.
    """

    def __init__(self, called: set[str]) -> None:
        self.called = called
        self.tracer = torch.fx.Tracer()
        self.indexed: dict[str, str] = {"": "module"}  # module path -> how its children are read
        self.modules: set[str] = set()

    def init_lines(self, model: nn.Module) -> tuple[str, list[str]]:
        """The class the source's model derives from, and the statements of its ``__init__``,
        indented for the method body. A model that is a sequence of numbered layers is an
        ``nn.Sequential`` (with its own forward, fx's); any other an ``nn.Module``."""
        children = list(model._modules.items())
        own = model._parameters or model._buffers
        if (
            children
            and not own
            and _numbered([name for name, _ in children], None not in dict(children).values())
        ):
            self.indexed[""] = "index"
            lines = ["        super().__init__("]
            for name, child in children:
                value = self._literal(child, name, 12, 12, [])
                lines += [" " * 12 + value[0], *value[1:]]
                lines[-1] += ","
            return "nn.Sequential", [*lines, "        )"]
        lines = ["        super().__init__()"]
        lines += [" " * 8 + line for line in _own_tensors("self", "", model)]
        for name, child in children:
            later: list[str] = []
            if child is None:
                lines.append(" " * 8 + f"self.add_module({name!r}, None)")
                continue
            if _plain(name):
                lead = f"self.{name} = "
                value = self._literal(child, name, 8, 8 + len(lead), later)
                lines.append(" " * 8 + lead + value[0])
                lines += value[1:]
            else:
                lead = f"self.add_module({name!r}, "
                value = self._literal(child, name, 8, 8 + len(lead) + 1, later)
                lines.append(" " * 8 + lead + value[0])
                lines += value[1:]
                lines[-1] += ")"
            lines += [" " * 8 + line for line in later]
        return "nn.Module", lines

    def _literal(
        self, module: nn.Module, path: str, column: int, lead: int, later: list[str]
    ) -> list[str]:
        """``module`` as an expression whose first line starts at ``lead`` and whose closing
        bracket sits at ``column``; statements it needs afterwards go to ``later``."""
        self.modules.add(path)
        if _rebuilt_from_repr(module, path, self.called, self.tracer):
            call = _constructor(module, path)
            lines = wrapped_call(call, lead)
            return lines if len(lines) == 1 else [lines[0], *_shifted(lines[1:], column - lead)]
        later += _own_tensors(self.accessor(path), path, module)
        children = [(name, child) for name, child in module._modules.items()]
        for name, child in children:
            if child is None:
                later.append(f"{self.accessor(path)}.add_module({name!r}, None)")
        children = [(name, child) for name, child in children if child is not None]
        if not children:
            self.indexed[path] = "module"
            return ["nn.Module()"]
        numbered = _numbered([name for name, _ in children])
        if isinstance(module, nn.ModuleList) and numbered:
            opening, closing, self.indexed[path] = "nn.ModuleList([", "])", "index"
        elif numbered:
            opening, closing, self.indexed[path] = "nn.Sequential(", ")", "index"
        else:
            opening, closing, self.indexed[path] = "nn.ModuleDict({", "})", "key"
        lines = [opening]
        inner = column + 4
        for name, child in children:
            key = "" if self.indexed[path] == "index" else f"{name!r}: "
            value = self._literal(child, f"{path}.{name}", inner, inner + len(key), later)
            lines.append(" " * inner + key + value[0])
            lines += value[1:]
            lines[-1] += ","
        lines.append(" " * column + closing)
        return lines

    def accessor(self, path: str) -> str:
        """How the model's own code reaches the module or tensor at ``path``."""
        expression, parent = "self", ""
        for name in path.split("."):
            here = f"{parent}.{name}" if parent else name
            how = self.indexed.get(parent, "module") if here in self.modules else "attribute"
            if how == "index":
                expression = f"{expression}[{int(name)}]"
            elif how == "key" and not (_plain(name) and not hasattr(nn.ModuleDict, name)):
                expression = f"{expression}[{name!r}]"
            elif _plain(name):
                expression = f"{expression}.{name}"
            else:
                expression = f"getattr({expression}, {name!r})"
            parent = here
        return expression


def _numbered(names: list[str], allowed: bool = True) -> bool:
    return allowed and names == [str(index) for index in range(len(names))]


def _own_tensors(expression: str, path: str, module: nn.Module) -> list[str]:
    """Statements that give the module at ``expression`` its own parameters and buffers."""
    lines = []
    for name, parameter in module._parameters.items():
        value = "None" if parameter is None else _parameter(parameter)
        lines.append(f"{expression}.register_parameter({name!r}, {value})")
    for name, buffer in module._buffers.items():
        if name in module._non_persistent_buffers_set:
            where = f"{path}.{name}" if path else name
            raise ExportError(
                f"buffer {where!r} is not persistent, so the weights file cannot hold it; "
                "register it with persistent=True"
            )
        value = "None" if buffer is None else _empty(buffer)
        lines.append(f"{expression}.register_buffer({name!r}, {value})")
    return lines


def _shifted(lines: list[str], by: int) -> list[str]:
    return [(" " * by + line) if by > 0 else line[-by:] for line in lines]


def _check_attributes(model: nn.Module, graph_module: torch.fx.GraphModule) -> None:
    """Every tensor the forward reads must be a parameter or buffer the weights file holds."""
    state = set(model.state_dict(keep_vars=True))
    for node in graph_module.graph.nodes:
        if node.op == "get_attr" and node.target not in state:
            raise ExportError(
                f"the forward of {type(model).__name__} reads the tensor {node.target!r}, which "
                "is not a parameter or persistent buffer; register it with register_buffer"
            )


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
            return _without_defaults(module, call)
        problems.append(f"{call} does not rebuild it: {problem}")
    raise ExportError(refuse + "; ".join(problems))


def _without_defaults(module: nn.Module, call: str) -> str:
    """``call`` without the keyword arguments that repeat the constructor's defaults
    (``nn.BatchNorm2d(64)``, not ``nn.BatchNorm2d(64, eps=1e-05, ...)``), when that still
    rebuilds ``module``."""
    try:
        defaults = {
            name: parameter.default
            for name, parameter in inspect.signature(type(module).__init__).parameters.items()
            if parameter.default is not parameter.empty
        }
    except (TypeError, ValueError):
        return call
    parsed = ast.parse(call, mode="eval").body
    if not isinstance(parsed, ast.Call):
        return call
    kept = []
    for argument in parsed.keywords:
        try:
            value = ast.literal_eval(argument.value)
        except ValueError:
            kept.append(argument)
            continue
        default = defaults.get(argument.arg or "", _MISSING)
        if not (_same(value, default) or _same(value, (default, default))):
            kept.append(argument)
    shorter = ast.unparse(ast.Call(parsed.func, parsed.args, kept))
    try:
        rebuilt = eval(shorter, {"nn": nn, "torch": torch, "inf": math.inf})
    except Exception:
        return call
    return shorter if _difference(module, rebuilt) is None else call


def _same(value: Any, default: Any) -> bool:
    return type(value) is type(default) and value == default


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


def _plain(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name)


def _imports(forward: str, namespace: dict[str, Any]) -> set[str]:
    """Statements that bind the global names the forward uses."""
    used = {node.id for node in ast.walk(ast.parse(forward.strip())) if isinstance(node, ast.Name)}
    return {_import(name, namespace[name]) for name in sorted(used & set(namespace))}


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
