"""Search spaces: the decisions, the rules that bind them, and the architectures they admit."""

from rlnas.space.core import Architecture, Choice, Choices, Growth, Option, Rule, SearchSpace

__all__ = ["Architecture", "Choice", "Choices", "Growth", "Option", "Rule", "SearchSpace"]
