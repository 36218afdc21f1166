"""How much of the gradient reaches t steps back: RNN, LSTM, LSTM without forget gate, GRU.

Teaches: backpropagation through time multiplies one Jacobian per step. A tanh RNN's
Jacobians shrink the gradient by a roughly constant factor per step (exponential
decay); the LSTM's cell state c_t = f*c + i*g passes it on multiplied only by the
forget gate, and without a forget gate not at all.

    python examples/vanishing_gradients.py [--quick] [--steps 100] [-o flow.png]
"""

import argparse
from pathlib import Path

from lstm import gradflow


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="30 steps, 2 seeds")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("-o", "--output", type=Path, default=Path("vanishing_gradients.png"))
    args = parser.parse_args(argv)
    steps, seeds = (30, 2) if args.quick else (args.steps, 5)

    flows = gradflow.measure(T=steps, seeds=seeds)
    print(gradflow.table(flows))
    for flow in flows:
        print(f"{flow.cell:<15} keeps x{sum(flow.decays) / len(flow.decays):.3f} of the "
              f"gradient per step (fitted over the last 30 steps)")
    print(f"plot: {gradflow.plot(flows, args.output)}")


if __name__ == "__main__":
    main()
