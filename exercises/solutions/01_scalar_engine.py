"""Task 01: a scalar reverse-mode engine, in about 40 lines (micrograd's, without recursion).

A ``Value`` holds one number, remembers the Values it was made from and how, and
``backward()`` fills in ``.grad``: d(output)/d(this value) for every Value the output
depends on. This is all of reverse-mode autodiff; minigrad does the same for arrays.

Check: ``python -m exercises check 01``
"""

import math


class Value:
    """One number in a computation: ``data`` (float), ``grad`` (float, 0 until
    ``backward()``), ``parents`` (the Values it was made from) and ``op`` (how)."""

    def __init__(self, data, parents=(), op=""):
        """Given: a Value made from ``parents`` by ``op``; ``_backward`` passes this
        Value's grad on to its parents (set by the op that made it)."""
        self.data = float(data)
        self.grad = 0.0
        self.parents = tuple(parents)
        self.op = op
        self._backward = lambda: None

    def __add__(self, other):
        """``self + other`` (other: a Value or a number): a Value with ``parents``
        ``(self, other)`` and ``op`` ``"+"``. Also set the result's ``_backward``:
        d(a + b)/da = 1 and d(a + b)/db = 1, so each parent's grad grows by the result's
        grad.

        Hint: ``+=``, not ``=``: a Value used twice gets gradient from both uses.
        """
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = backward
        return out

    def __mul__(self, other):
        """``self * other``, with ``op`` ``"*"``. d(a * b)/da = b and d(a * b)/db = a."""
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = backward
        return out

    def tanh(self):
        """``tanh(self)``, with ``parents`` ``(self,)`` and ``op`` ``"tanh"``.
        d tanh(x)/dx = 1 - tanh(x)^2: the output's own value is enough."""
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def backward():
            self.grad += (1 - t * t) * out.grad
        out._backward = backward
        return out

    def backward(self):
        """Set ``grad`` of every Value this one depends on to d(self)/d(that Value):
        put the Values in topological order (every Value after the Values it was made
        from), set ``self.grad = 1``, then call ``_backward`` of each, newest first.

        Hint: no recursion (a chain of 10,000 Values must work): keep a list of Values
        to visit as a stack, and mark a Value done once all its parents are done.
        """
        order, seen, stack = [], set(), [(self, False)]
        while stack:
            value, parents_done = stack.pop()
            if parents_done:
                order.append(value)
                continue
            if id(value) in seen:
                continue
            seen.add(id(value))
            stack.append((value, True))
            stack.extend((parent, False) for parent in value.parents)
        self.grad = 1.0
        for value in reversed(order):
            value._backward()

    # given: numbers on the left (2 * x, 1 + x) work too
    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other
