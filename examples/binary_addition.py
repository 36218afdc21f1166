"""The classic "an RNN learns to add binary numbers", with a tanh RNN and an LSTM.

Teaches: a recurrent network as a learned state machine. The two numbers arrive one
bit pair per step, least significant first; at each step the network must output the
sum bit, which needs one bit of memory (the carry). Both cells learn it; the carry is
a one-step dependency, so this is no test of long memory (see adding_problem.py).

    python examples/binary_addition.py [--bits 8] [--steps 1500] [--quick]
"""

import argparse

import numpy as np

import minigrad as mg
from lstm.models import make_recurrent
from minigrad.nn import Linear
from minigrad.nn.functional import cross_entropy


def batch(n: int, bits: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """xs: (bits, n, 2) bit pairs, LSB first; ys: (bits, n) the bits of a + b (mod 2**bits)."""
    a = rng.integers(0, 2 ** (bits - 1), size=n)  # small enough that a + b has `bits` bits
    b = rng.integers(0, 2 ** (bits - 1), size=n)
    positions = np.arange(bits)[:, None]
    xs = np.stack([(a >> positions) & 1, (b >> positions) & 1], axis=-1).astype(np.float32)
    return xs, ((a + b) >> positions) & 1


class BitAdder(mg.nn.Module):
    """A recurrent layer with a 2-way readout at every step: (T, B, 2) -> (T*B, 2)."""

    def __init__(self, cell: str, hidden: int, rng: np.random.Generator) -> None:
        self.recurrent = make_recurrent(cell, 2, hidden, dtype=np.float32, rng=rng)
        self.readout = Linear(hidden, 2, dtype=np.float32, rng=rng)

    def forward(self, xs: np.ndarray) -> mg.Tensor:
        ys, _ = self.recurrent(xs)
        return self.readout(ys.reshape(-1, ys.shape[-1]))


def train(cell: str, bits: int, steps: int, seed: int) -> tuple[int | None, float]:
    rng = np.random.default_rng(seed)
    model = BitAdder(cell, 16, rng)
    optimizer = mg.optim.Adam(model.parameters(), lr=1e-2)
    test_xs, test_ys = batch(500, bits, np.random.default_rng(seed + 1))
    for step in range(1, steps + 1):
        xs, ys = batch(32, bits, rng)
        optimizer.zero_grad()
        cross_entropy(model(xs), ys.reshape(-1)).backward()
        optimizer.step()
        if step % 100 == 0:
            with mg.no_grad():
                predicted = model(test_xs).data.argmax(axis=1).reshape(test_ys.shape)
            exact = float(np.mean((predicted == test_ys).all(axis=0)))
            print(f"  {cell:<4} step {step:>5}: {exact:.1%} of test sums entirely right")
            if exact == 1.0:
                return step, exact
    return None, exact


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bits", type=int, default=8)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="4 bits, 300 steps")
    args = parser.parse_args(argv)
    bits, steps = (4, 300) if args.quick else (args.bits, args.steps)
    for cell in ("rnn", "lstm"):
        solved_at, exact = train(cell, bits, steps, args.seed)
        print(f"{cell}: " + (f"adds {bits}-bit numbers perfectly after {solved_at} steps"
                             if solved_at else f"{exact:.1%} exact after {steps} steps"))


if __name__ == "__main__":
    main()
