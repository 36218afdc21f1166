"""What each named tensor of a cell's unrolled graph means in the cell's equations, in the
words the explorer shows beside a vertex. An entry is a sentence, or a sentence and what to
say when that tensor's gradient is exactly zero."""

from __future__ import annotations

from minigrad.viz.explore import Meaning

_COMMON: dict[str, Meaning] = {
    "x": "this step's input x_t (the adding problem's value and marker)",
    "X": "[x_t, h_{t-1}]: this step's input beside the previous hidden state",
    "Z": "X @ W + b: every gate's pre-activation, side by side",
    "W": "a weight matrix, the same at every step (the readout has its own W, acting on "
         "the last h)",
    "b": "a bias row, the same at every step (the readout has its own)",
    "h0": "the initial hidden state h_{-1}: zeros (this layer's slice of H0)",
    "H0": "the initial hidden state of every layer, (layers, batch, hidden): zeros",
}

_LSTM: dict[str, Meaning] = {
    "i": "the input gate, σ(Z_i): how much of the candidate g is written into c",
    "f": ("the forget gate, σ(Z_f): how much of c_{t-1} is kept",
          "f multiplies c_{t-1}, and at t=0 that is c0 = 0: there is nothing to forget "
          "yet, so the loss cannot depend on f there"),
    "g": "the candidate, tanh(Z_g): what the step could write into c",
    "o": "the output gate, σ(Z_o): how much of tanh(c_t) is shown as h_t",
    "c": "the cell state, c_t = f * c_{t-1} + i * g: the memory the gradient can cross "
         "steps in, multiplied only by f",
    "h": "the hidden state, h_t = o * tanh(c_t)",
    "c0": "the initial cell state c_{-1}: zeros (this layer's slice of C0)",
    "C0": "the initial cell state of every layer, (layers, batch, hidden): zeros",
}

GLOSSARIES: dict[str, dict[str, Meaning]] = {
    "rnn": {**_COMMON, "h": "the hidden state, h_t = tanh(Z): also what the next step reads"},
    "lstm": {**_COMMON, **_LSTM},
    "lstm-no-forget": {**_COMMON, **_LSTM,
                       "c": "the cell state, c_t = c_{t-1} + i * g (the 1997 cell: no "
                            "forget gate, so the gradient crosses c unchanged)"},
    "gru": {**_COMMON,
            "W_x": "the weights on x, the same at every step",
            "W_h": "the weights on h_{t-1}, the same at every step",
            "b_x": "the bias of Gx", "b_h": "the bias of Gh",
            "Gx": "x @ W_x + b_x: the input's share of the three gates",
            "Gh": "h_{t-1} @ W_h + b_h: the previous state's share of the three gates",
            "r": "the reset gate, σ(Gx_r + Gh_r): how much of h_{t-1} the candidate sees",
            "z": "the update gate, σ(Gx_z + Gh_z): how much of h_{t-1} is kept",
            "n": "the candidate, tanh(Gx_n + r * Gh_n)",
            "h": "the hidden state, h_t = (1 - z) * n + z * h_{t-1}"},
}
