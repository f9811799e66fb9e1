"""Widgets: endpoint panes and their answer view, the scoreboard, the probe navigator."""
