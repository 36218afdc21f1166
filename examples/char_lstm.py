"""A character-level LSTM language model, trained on a short text shipped here.

Teaches: next-character prediction, truncated backpropagation through time (the state
is carried across chunks but the graph is cut with detach()), cross-entropy over a
vocabulary, and sampling from the model as it learns. The text
(examples/data/backprop.txt) was written for this repository.

    python examples/char_lstm.py [--steps 2000] [--quick]
"""

import argparse
from pathlib import Path

import numpy as np

import minigrad as mg
from lstm import LSTM
from minigrad.nn import Linear
from minigrad.nn.functional import cross_entropy

TEXT = Path(__file__).with_name("data") / "backprop.txt"


class CharModel(mg.nn.Module):
    def __init__(self, vocab: int, hidden: int, rng: np.random.Generator) -> None:
        self.lstm = LSTM(vocab, hidden, dtype=np.float32, rng=rng)
        self.readout = Linear(hidden, vocab, dtype=np.float32, rng=rng)

    def forward(self, xs: np.ndarray, state=None):
        """xs: (T, B, vocab) one-hot -> logits (T*B, vocab), final state."""
        ys, state = self.lstm(xs, state)
        return self.readout(ys.reshape(-1, ys.shape[-1])), state


def sample(model: CharModel, chars: list[str], seed_text: str, length: int,
           rng: np.random.Generator) -> str:
    index = {c: i for i, c in enumerate(chars)}
    eye = np.eye(len(chars), dtype=np.float32)
    out, state = list(seed_text), None
    with mg.no_grad():
        logits, state = model(eye[[index[c] for c in seed_text]][:, None, :])
        for _ in range(length):
            p = mg.softmax(logits[-1]).data.astype(np.float64)  # stable, sums to 1
            next_char = rng.choice(len(chars), p=p / p.sum())
            out.append(chars[next_char])
            logits, state = model(eye[[next_char]][:, None, :], state)
    return "".join(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--hidden", type=int, default=96)
    parser.add_argument("--quick", action="store_true", help="60 steps, small model")
    args = parser.parse_args(argv)
    steps, hidden, every = (60, 32, 30) if args.quick else (args.steps, args.hidden, 250)

    text = TEXT.read_text()
    chars = sorted(set(text))
    codes = np.array([chars.index(c) for c in text])
    eye = np.eye(len(chars), dtype=np.float32)
    rng = np.random.default_rng(0)
    model = CharModel(len(chars), hidden, rng)
    optimizer = mg.optim.Adam(model.parameters(), lr=5e-3)
    chunk, batch = 32, 16
    starts = rng.integers(0, len(codes) - chunk * 8 - 1, size=batch)
    state, position = None, 0
    print(f"{len(text)} characters, vocabulary of {len(chars)}")
    for step in range(1, steps + 1):
        if position + chunk + 1 > chunk * 8:  # start new streams now and then
            starts, state, position = rng.integers(0, len(codes) - chunk * 8 - 1, size=batch), \
                None, 0
        window = codes[starts[None, :] + position + np.arange(chunk + 1)[:, None]]
        logits, state = model(eye[window[:-1]], state)
        loss = cross_entropy(logits, window[1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        mg.optim.clip_grad_norm(optimizer.params, 1.0)
        optimizer.step()
        state = tuple(s.detach() for s in state)  # truncated BPTT: keep the state, cut the graph
        position += chunk
        if step % every == 0 or step == steps:
            print(f"step {step:>5}  loss {loss.item():.3f} (uniform guessing: "
                  f"{np.log(len(chars)):.3f})")
            print("   " + sample(model, chars, "The ", 80, rng).replace("\n", " "))


if __name__ == "__main__":
    main()
