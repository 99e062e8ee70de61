"""Drawing functions: each takes axes and data, draws, and returns its artists.

An ``update_*`` partner moves those artists to new data in place, so an
explorer never builds a new figure when a slider moves. Nothing here computes
a model or touches widgets.
"""
