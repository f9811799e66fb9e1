"""The run engine: plans a run, drives the clients, feeds the scorer, writes the WAL."""
