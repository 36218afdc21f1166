"""lstm: recurrent cells and layers built only from minigrad primitives."""
