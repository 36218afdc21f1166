"""Pictures of the computation graph, with Graphviz.

``draw_graph`` returns a ``graphviz.Digraph``: building it needs no ``dot`` binary,
rendering it (``.render()``, ``.pipe()``, Jupyter's display, :func:`save`) does. See
:mod:`minigrad.viz.dot` for what a picture shows and how time is laid out,
:mod:`minigrad.viz.colours` for its colours, :mod:`minigrad.viz.render` for rendering.
``explore`` builds the interactive page that replays the backward sweep
(:mod:`minigrad.viz.explore`); ``compare`` puts several graphs side by side on one scale,
with knobs (:mod:`minigrad.viz.compare`).
"""

from .colours import DEFAULT_HEAT_RANGE, HeatScale, relative_luminance
from .compare import Knob, Question, compare
from .dot import draw_graph
from .explore import Explorer, Page, explore
from .render import PICTURE_FORMATS, DotNotFoundError, Picture, RenderError, run_dot, save

__all__ = ["DEFAULT_HEAT_RANGE", "PICTURE_FORMATS", "DotNotFoundError", "Explorer", "HeatScale",
           "Knob", "Page", "Picture", "Question", "RenderError", "compare", "draw_graph",
           "explore", "relative_luminance", "run_dot", "save"]
