"""Modules, parameters, layers and losses."""

from . import functional
from .linear import Linear
from .module import Module, Parameter

__all__ = ["Linear", "Module", "Parameter", "functional"]
