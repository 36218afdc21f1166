"""lstm: recurrent cells and layers built only from minigrad primitives, long-range
tasks, gradient-flow analysis and the command line (``python -m lstm``)."""

from .cells import LSTMCell, RNNCell
from .layers import LSTM, RNN

__all__ = ["LSTM", "LSTMCell", "RNN", "RNNCell"]
