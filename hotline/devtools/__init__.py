"""Tools for developers, not part of the service: the terminal phone and its keypad."""
