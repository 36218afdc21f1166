"""Hand-written NumPy: the floor any NumPy autograd engine is measured against.

The LSTM is exactly the cell of SPEC.md (``X = [x, h]``, ``Z = X @ W + b``, gate blocks
[i, f, g, o]) with a linear readout ``y = h_T @ V + v`` and an MSE loss; forward and
backpropagation through time are written out by hand, storing what BPTT needs.
"""

from __future__ import annotations

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def lstm_step_grads(xs, W, b, V, v, y, one_gemm: bool = False):
    """Loss and gradients ``(loss, dW, db, dV, dv)`` of one training step.

    Args:
        xs: (T, B, p); W: (p+q, 4q); b: (1, 4q); V: (q, 1); v: (1, 1); y: (B, 1).
        one_gemm: accumulate dW as one GEMM over all time steps (the hand-optimised
            variant) instead of one GEMM per step.
    """
    T, B, p = xs.shape
    q = W.shape[1] // 4
    h = np.zeros((B, q), W.dtype)
    c = np.zeros((B, q), W.dtype)
    Xs = np.empty((T, B, p + q), W.dtype)
    saved = []
    for t in range(T):
        X = Xs[t]
        X[:, :p] = xs[t]
        X[:, p:] = h
        Z = X @ W
        Z += b
        i, f, o = sigmoid(Z[:, :q]), sigmoid(Z[:, q:2 * q]), sigmoid(Z[:, 3 * q:])
        g = np.tanh(Z[:, 2 * q:3 * q])
        c_prev = c
        c = f * c + i * g
        tc = np.tanh(c)
        h = o * tc
        saved.append((i, f, g, o, c_prev, tc))
    out = h @ V + v
    diff = out - y
    loss = float(np.mean(diff * diff))
    dout = (2.0 / diff.size) * diff
    dV = h.T @ dout
    dv = dout.sum(axis=0, keepdims=True)
    dh = dout @ V.T
    dc = np.zeros_like(h)
    dW = np.zeros_like(W)
    db = np.zeros_like(b)
    dZs = np.empty((T, B, 4 * q), W.dtype) if one_gemm else None
    dZ = np.empty((B, 4 * q), W.dtype)
    for t in range(T - 1, -1, -1):
        i, f, g, o, c_prev, tc = saved[t]
        dc += dh * o * (1 - tc * tc)
        target = dZs[t] if one_gemm else dZ
        target[:, :q] = dc * g * i * (1 - i)
        target[:, q:2 * q] = dc * c_prev * f * (1 - f)
        target[:, 2 * q:3 * q] = dc * i * (1 - g * g)
        target[:, 3 * q:] = dh * tc * o * (1 - o)
        dc *= f
        if not one_gemm:
            dW += Xs[t].T @ target
            db += target.sum(axis=0)
        dh = target @ W[p:].T
    if one_gemm:
        dW = Xs.reshape(T * B, p + q).T @ dZs.reshape(T * B, 4 * q)
        db = dZs.sum(axis=(0, 1))[None, :]
    return loss, dW, db, dV, dv


def chain_grads(x: np.ndarray, a: np.ndarray, b: np.ndarray, n_ops: int):
    """W1 by hand: ``n_ops`` ops cycling ``x*a``, ``x+b``, ``tanh(x)``, then ``sum``;
    returns (value, dx)."""
    kinds = []
    saved = []
    for k in range(n_ops):
        kind = k % 3
        if kind == 0:
            x = x * a
        elif kind == 1:
            x = x + b
        else:
            x = np.tanh(x)
            saved.append(x)
        kinds.append(kind)
    value = x.sum()
    g = np.ones_like(x)
    for kind in reversed(kinds):
        if kind == 0:
            g = g * a
        elif kind == 2:
            y = saved.pop()
            g = g * (1 - y * y)
    return value, g
