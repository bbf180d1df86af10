"""The read side: projections, the projector that applies them, the runner, read-model copies
and their rebuild, lag metrics."""
