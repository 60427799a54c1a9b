"""A standalone PyTorch source file that rebuilds a model with nothing but torch (and safetensors).

The model is traced with ``torch.fx``: the generated class recreates every module under the same
path, as ``nn.Sequential`` / ``nn.ModuleDict`` literals of the layers, so the state_dict keys
match exactly and the saved weights load with ``strict=True``; its ``forward`` is the code fx
generated from the traced graph, with the layers reached by indexing (``self.network[0]``).
Each layer is the constructor call that rebuilds it (``layer_calls.py``); the text is laid out
to read like written code and to pass ruff at 100 characters (``source_format.py``).
"""

from __future__ import annotations

import ast
import keyword
import types
from typing import Any

import torch
import torch.fx
from torch import nn

from rlnas.export.layer_calls import ExportError, constructor, rebuilt_from_repr
from rlnas.export.source_format import import_block, readable_forward, wrapped_call

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
        if rebuilt_from_repr(module, path, self.called, self.tracer):
            call = constructor(module, path)
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
