"""Train a tanh RNN and an LSTM on the adding problem at a lag of your choice.

Teaches: the task (two marked numbers, T steps apart at most, must be added; ignoring
the input scores MSE 0.167) and what "learning a long-range dependency" looks like in
a training curve. Try --T 10 (both learn it) and --T 50 (only the LSTM does).

    python examples/adding_problem.py [--T 50] [--steps 3000] [--quick]
"""

import argparse

from lstm.training import TrainConfig, train


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--T", type=int, default=50, help="sequence length (lag)")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="T=8, 400 steps")
    args = parser.parse_args(argv)
    T, steps = (8, 400) if args.quick else (args.T, args.steps)

    for cell in ("rnn", "lstm"):
        result = train(TrainConfig(cell=cell, T=T, steps=steps, seed=args.seed,
                                   test_size=200 if args.quick else 1000))
        verdict = (f"solved it at step {result.solved_at}" if result.solved else
                   f"did not solve it (best test MSE {result.best_score:.3f}; "
                   f"predicting 1.0 scores 0.167)")
        print(f"{cell} at T={T}: {verdict}, {result.seconds:.1f}s")
    if args.quick:
        print("(--quick only checks that this runs: at T=8 and 400 steps a cell may solve "
              "the task or run out of steps first, so conclude nothing about the cells from "
              "it; compare them without --quick: T=50, 3000 steps)")


if __name__ == "__main__":
    main()
