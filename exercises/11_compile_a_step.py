"""Task 11: compile a training step with ``mg.compile``, and check it against eager.

``step = mg.compile(loss_fn)`` traces ``loss_fn`` at its first call and replays the
trace afterwards, with no Python per op: the same numbers, faster. A new shape of the
arguments traces again (a retrace). Weights the function reads from outside are read at
every call, so an optimizer may update them between steps. Trust, but check: run the
same training eager and compiled, and compare.

Check: ``python -m exercises check 11``
"""

import numpy as np

import minigrad as mg


def train(loss_fn, params, batches, lr, compiled):
    """Plain SGD: for each ``(x, y)`` in ``batches``, ``loss = step(x, y)``, backward, then
    ``p.data -= lr * p.grad`` for every Tensor in ``params`` (which ``loss_fn`` reads),
    and clear the gradients. ``step`` is ``mg.compile(loss_fn)`` (made once) when
    ``compiled``, else ``loss_fn`` itself. Returns the list of the losses, as floats."""
    raise NotImplementedError  # your code here


def largest_difference(make_loss, make_params, batches, lr):
    """Train twice from the same start, eager and compiled, and return the largest
    absolute difference between the two runs' losses and final parameters (0 to
    rounding when the compiled step is right). ``make_params()`` returns a fresh list of
    parameter Tensors (the same values at each call); ``make_loss(params)`` the loss
    function ``(x, y) -> loss`` that reads them."""
    raise NotImplementedError  # your code here


def traces(loss_fn, batches):
    """How many times ``mg.compile(loss_fn)`` traces when called (once made) on every
    ``(x, y)`` of ``batches`` in turn: once per new shape of the arguments.

    Hint: a compiled function counts its traces in ``.traces``.
    """
    raise NotImplementedError  # your code here
