"""Screens: the run (main), help, unsaved-results question, and the error screen."""
