"""``mg.compile``: trace a function once, then replay it as a flat schedule of NumPy calls.

The eager engine pays about a microsecond of Python per op to build its graph, on top of
NumPy's own time. A compiled function pays it once per signature. The stages, one
module each, in the order a new signature runs them:

- :mod:`~minigrad.compiler.function`: ``mg.compile`` and :class:`CompiledFunction`, the
  cache of plans by key, ``explain()``, ``verify=``; it runs the stages below;
- :mod:`~minigrad.compiler.keys`, :mod:`~minigrad.compiler.signature` and
  :mod:`~minigrad.compiler.guards`: the key of a call (its arguments' structure, shapes,
  dtypes and exact values) and the guards on the Python state the function reads;
- :mod:`~minigrad.compiler.trace`: what the traced call returned;
- :mod:`~minigrad.compiler.plan`: the :class:`Plan`, plain data: one slot per value
  the function uses (arguments, captured tensors, constants, each op's result), the
  forward schedule, and per group of outputs the backward one; ``str(plan)`` prints them
  (:mod:`~minigrad.compiler.text`);
- :mod:`~minigrad.compiler.schedule`: the eager sweep's decisions made once, a probe
  that runs it on the traced values, and the schedules written from them;
- :mod:`~minigrad.compiler.passes`: the optimisations, each a function run before the
  backward schedule is written, picked by name (``fuse=``);
- :mod:`~minigrad.compiler.lower`: the one stage that writes source;
- :mod:`~minigrad.compiler.replay`: a call filling the slots, running the forward
  schedule, and joining the eager graph as one node whose VJP runs the backward
  schedule, with the same VJPs as eager, through the same gradient door
  (``autograd.through_door``) and the same accumulation: gradients agree with eager ones
  to rounding, and go into ``.grad`` the way eager ones do;
- :mod:`~minigrad.compiler.staged`: a function returning an intermediate beside what is
  computed from it, planned in two stages;
- :mod:`~minigrad.compiler.verify`: replays checked against eager (``verify=N``).
"""

from ..context import TracingError
from .function import CompiledFunction, Plans, compile
from .plan import Plan
from .verify import CompileMismatchError

__all__ = ["CompileMismatchError", "CompiledFunction", "Plan", "Plans", "TracingError",
           "compile"]
