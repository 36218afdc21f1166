"""lstm: recurrent cells and layers built only from minigrad primitives, long-range
tasks, gradient-flow analysis and the command line (``python -m lstm``).

Every submodule is imported with the package: ``import lstm`` then
``lstm.tasks.adding_problem(...)`` or ``lstm.analysis.gradient_flow(...)`` works."""

from . import (
               analysis,
               cells,
               cli,
               comparison,
               demo,
               gradflow,
               layers,
               models,
               pictures,
               tasks,
               training,
)
from .cells import GRUCell, LSTMCell, RNNCell
from .layers import GRU, LSTM, RNN

__all__ = ["GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNCell", "analysis", "cells", "cli",
           "comparison",
           "demo", "gradflow", "layers", "models", "pictures", "tasks", "training"]
