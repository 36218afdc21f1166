#!/usr/bin/env bash
# The pictures the README shows, made anew from the code (`make pictures`).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
"$PY" -m lstm graph --cell rnn --steps 30 --depth 1 --heat -o docs/rnn_30_steps_heat.svg
"$PY" -m lstm graph --cell lstm --steps 30 --depth 1 --heat -o docs/lstm_30_steps_heat.svg
"$PY" -m lstm graph --cell lstm --steps 2 --grads --highlight c -o docs/lstm_2_steps.svg
"$PY" -m lstm gradflow --steps 100 --seeds 5 -o docs/gradient_flow.png
# the explorer's screenshot is taken by its browser test, as a student would see the page
MINIGRAD_SCREENSHOT=docs/explorer.png "$PY" -m pytest -q -p no:cacheprovider tests/test_explorer.py -k screenshot
MINIGRAD_SCREENSHOT=docs/compare.png "$PY" -m pytest -q -p no:cacheprovider tests/test_compare.py -k screenshot
