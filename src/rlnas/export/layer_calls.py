"""A torch.nn layer as the constructor call that rebuilds it, for the standalone source.

A torch.nn layer's ``repr`` reads as its constructor call for the standard layers
(``Conv2d(1, 16, kernel_size=(3, 3), ...)``); where it falls short (a string printed unquoted),
the call is read from the attributes named like the constructor's parameters. Each call is
built and compared with the original before it is used, the keyword arguments that repeat the
constructor's defaults are left out (``nn.BatchNorm2d(64)``), and a layer no call rebuilds is
refused with the reason.
"""

from __future__ import annotations

import ast
import inspect
import math
from typing import Any

import torch
import torch.fx
from torch import nn

from rlnas.errors import UserError


class ExportError(UserError):
    """The model cannot be exported: fx cannot trace it, or a layer of it cannot be rebuilt."""


# Containers are traced through and rebuilt as plain modules that hold the same children.
_CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict, nn.ParameterList, nn.ParameterDict)


def rebuilt_from_repr(
    module: nn.Module, path: str, called: set[str], tracer: torch.fx.Tracer
) -> bool:
    if path in called:
        return True
    if isinstance(module, _CONTAINERS) or module._modules:
        return False
    return tracer.is_leaf_module(module, path)


def constructor(module: nn.Module, path: str) -> str:
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
