"""The benchmark workloads, each as ``make_* -> step()`` for every implementation.

W1: a chain of elementwise ops on a (16,) vector; W2: one LSTM training step
(forward + backward, no optimizer) at sizes S, M, L: the cell stepped T times carrying
only ``(h, c)``, then the loss on the last ``h``, written the same way for minigrad
(eager, and the same function under ``mg.compile``), NumPy and PyTorch eager. The same
weights and data go to every implementation, so their results can be compared
(tests/test_benchmarks.py).

PyTorch and JAX are imported only by the processes that measure them: importing either
changes how fast the others run. Neither is a dependency: each row appears when the
package is importable (``pip install torch==2.13.0`` or ``pip install jax`` in the
environment that runs ``make bench``).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import minigrad as mg
from lstm import LSTM, LSTMCell

from . import minimal_engine
from .numpy_reference import chain_grads, lstm_step_grads

# optional: measured when installed, never required
TORCH_VERSION = (importlib.metadata.version("torch").split("+")[0]
                 if importlib.util.find_spec("torch") else None)
JAX_VERSION = importlib.metadata.version("jax") if importlib.util.find_spec("jax") else None


def _torch():
    import torch

    torch.set_num_threads(int(os.environ.get("OPENBLAS_NUM_THREADS", "2")))
    return torch

W1_OPS = 2000
DTYPE = np.float32


@dataclass(frozen=True)
class LSTMSize:
    name: str
    B: int
    p: int
    q: int
    T: int

    def flops(self) -> float:
        """Multiply-adds x 2 of the three GEMMs per step (forward, dX, dW)."""
        return 3 * 2.0 * self.T * self.B * (self.p + self.q) * 4 * self.q


SIZES = {s.name: s for s in (LSTMSize("S", 1, 8, 32, 100), LSTMSize("M", 32, 64, 128, 100),
                             LSTMSize("L", 64, 256, 512, 50))}


def w1_data(seed: int = 0):
    rng = np.random.default_rng(seed)
    return [rng.uniform(0.5, 1.0, 16).astype(DTYPE) for _ in range(3)]


def w1_chain(a: mg.Tensor, b: mg.Tensor) -> Callable[[mg.Tensor], mg.Tensor]:
    """W1's ops on ``x``, then the sum."""
    def chain(x: mg.Tensor) -> mg.Tensor:
        y = x
        for k in range(W1_OPS):
            kind = k % 3
            y = y * a if kind == 0 else (y + b if kind == 1 else mg.tanh(y))
        return y.sum()
    return chain


def w1_minigrad(compile: bool = False) -> Callable[[], np.ndarray]:
    x0, a0, b0 = w1_data()
    chain = w1_chain(mg.tensor(a0), mg.tensor(b0))
    if compile:
        chain = mg.compile(chain)

    def step():
        x = mg.tensor(x0, requires_grad=True)
        chain(x).backward()
        return x.grad
    return step


def w1_minimal() -> Callable[[], np.ndarray]:
    x0, a0, b0 = w1_data()
    return lambda: minimal_engine.chain_grads(x0, a0, b0, W1_OPS)


def w1_numpy() -> Callable[[], np.ndarray]:
    x0, a0, b0 = w1_data()
    return lambda: chain_grads(x0, a0, b0, W1_OPS)[1]


def w1_torch() -> Callable[[], np.ndarray]:
    torch = _torch()
    x0, a0, b0 = (torch.from_numpy(v) for v in w1_data())

    def step():
        x = y = x0.clone().requires_grad_(True)
        for k in range(W1_OPS):
            kind = k % 3
            y = y * a0 if kind == 0 else (y + b0 if kind == 1 else torch.tanh(y))
        y.sum().backward()
        return x.grad.numpy()
    return step


def w2_data(size: LSTMSize, seed: int = 0) -> dict[str, np.ndarray]:
    """Weights (PyTorch-style uniform init), inputs and targets for one step."""
    rng = np.random.default_rng(seed)
    bound = 1 / np.sqrt(size.q)
    return {
        "xs": rng.standard_normal((size.T, size.B, size.p)).astype(DTYPE),
        "W": rng.uniform(-bound, bound, (size.p + size.q, 4 * size.q)).astype(DTYPE),
        "b": rng.uniform(-bound, bound, (1, 4 * size.q)).astype(DTYPE),
        "V": rng.uniform(-bound, bound, (size.q, 1)).astype(DTYPE),
        "v": rng.uniform(-bound, bound, (1, 1)).astype(DTYPE),
        "y": rng.standard_normal((size.B, 1)).astype(DTYPE),
    }


def w2_minigrad(size: LSTMSize, compile: bool = False) -> Callable[[], tuple]:
    """The LSTMCell stepped T times: what the NumPy and PyTorch-eager rows compute;
    ``compile``: the same function under ``mg.compile``."""
    d = w2_data(size)
    cell = LSTMCell(size.p, size.q, dtype=DTYPE)
    cell.load_state_dict({"W": d["W"], "b": d["b"]})
    V, v = mg.nn.Parameter(d["V"]), mg.nn.Parameter(d["v"])
    params = [cell.W, cell.b, V, v]
    xs = [mg.tensor(x) for x in d["xs"]]
    y = mg.tensor(d["y"])

    def loss_fn(xs: list[mg.Tensor], y: mg.Tensor) -> mg.Tensor:
        state = cell.zero_state(size.B)
        for x in xs:
            state = cell(x, state)
        return mg.nn.functional.mse_loss(state[0] @ V + v, y)

    if compile:
        loss_fn = mg.compile(loss_fn)

    def step():
        for p in params:
            p.grad = None
        loss = loss_fn(xs, y)
        loss.backward()
        return (loss.item(), *(p.grad for p in params))
    return step


def w2_minigrad_layer(size: LSTMSize) -> Callable[[], tuple]:
    """The same step through the layer API, ``lstm.LSTM.unroll``: it also names each
    step's scope and keeps every step's output (T x (B, q) more memory)."""
    d = w2_data(size)
    lstm = LSTM(size.p, size.q, dtype=DTYPE)
    lstm.cells[0].load_state_dict({"W": d["W"], "b": d["b"]})
    V, v = mg.nn.Parameter(d["V"]), mg.nn.Parameter(d["v"])
    params = [lstm.cells[0].W, lstm.cells[0].b, V, v]

    def step():
        for p in params:
            p.grad = None
        hs, _ = lstm.unroll(d["xs"])
        loss = mg.nn.functional.mse_loss(hs[-1] @ V + v, d["y"])
        loss.backward()
        return (loss.item(), *(p.grad for p in params))
    return step


def w2_numpy(size: LSTMSize, one_gemm: bool = False) -> Callable[[], tuple]:
    d = w2_data(size)
    return lambda: lstm_step_grads(d["xs"], d["W"], d["b"], d["V"], d["v"], d["y"], one_gemm)


def w2_torch_eager(size: LSTMSize) -> Callable[[], tuple]:
    torch = _torch()
    d = {k: torch.from_numpy(a) for k, a in w2_data(size).items()}
    W, b, V, v = (d[k].clone().requires_grad_(True) for k in "WbVv")
    q = size.q

    def step():
        for p in (W, b, V, v):
            p.grad = None
        h = torch.zeros(size.B, q)
        c = torch.zeros(size.B, q)
        for t in range(size.T):
            Z = torch.cat([d["xs"][t], h], dim=-1) @ W + b
            i, f = torch.sigmoid(Z[:, :q]), torch.sigmoid(Z[:, q:2 * q])
            g, o = torch.tanh(Z[:, 2 * q:3 * q]), torch.sigmoid(Z[:, 3 * q:])
            c = f * c + i * g
            h = o * torch.tanh(c)
        loss = ((h @ V + v - d["y"]) ** 2).mean()
        loss.backward()
        return loss.item(), W.grad, b.grad, V.grad, v.grad
    return step


def w2_torch_fused(size: LSTMSize) -> Callable[[], tuple]:
    torch = _torch()
    d = w2_data(size)
    lstm = torch.nn.LSTM(size.p, size.q)
    with torch.no_grad():
        W = torch.from_numpy(d["W"])
        lstm.weight_ih_l0.copy_(W[:size.p].T)
        lstm.weight_hh_l0.copy_(W[size.p:].T)
        lstm.bias_ih_l0.copy_(torch.from_numpy(d["b"][0]))
        lstm.bias_hh_l0.zero_()
    V, v = (torch.from_numpy(d[k]).clone().requires_grad_(True) for k in "Vv")
    xs, y = torch.from_numpy(d["xs"]), torch.from_numpy(d["y"])

    def step():
        lstm.zero_grad()
        ys, _ = lstm(xs)
        loss = ((ys[-1] @ V + v - y) ** 2).mean()
        loss.backward()
        return (loss.item(),)
    return step


def _jax():
    """JAX on the CPU with the threads the other rows get (read when its CPU client
    starts, so before the first import)."""
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    os.environ["NPROC"] = os.environ.get("OPENBLAS_NUM_THREADS", "2")
    import jax

    return jax


def w2_jax_scan(size: LSTMSize) -> Callable[[], tuple]:
    """The same step as ``jax.jit`` over ``jax.lax.scan`` (XLA runs the loop, forward and
    backward, with no Python in it). Its first call traces and compiles; the step's
    ``compile_seconds`` attribute says how long that took, apart from the timings."""
    jax = _jax()
    jnp = jax.numpy
    d = {k: jnp.asarray(a) for k, a in w2_data(size).items()}
    q = size.q

    def loss_fn(W, b, V, v, xs, y):
        def cell(state, x):
            h, c = state
            Z = jnp.concatenate([x, h], axis=-1) @ W + b
            i, f = jax.nn.sigmoid(Z[:, :q]), jax.nn.sigmoid(Z[:, q:2 * q])
            g, o = jnp.tanh(Z[:, 2 * q:3 * q]), jax.nn.sigmoid(Z[:, 3 * q:])
            c = f * c + i * g
            return (o * jnp.tanh(c), c), None

        zeros = jnp.zeros((size.B, q), W.dtype)
        (h, _), _ = jax.lax.scan(cell, (zeros, zeros), xs)
        return jnp.mean((h @ V + v - y) ** 2)

    grad_fn = jax.jit(jax.value_and_grad(loss_fn, argnums=(0, 1, 2, 3)))
    args = (d["W"], d["b"], d["V"], d["v"], d["xs"], d["y"])

    def step():
        loss, grads = grad_fn(*args)
        return (float(loss), *(np.asarray(g) for g in jax.block_until_ready(grads)))

    start = time.perf_counter()
    step()
    step.compile_seconds = time.perf_counter() - start
    return step
