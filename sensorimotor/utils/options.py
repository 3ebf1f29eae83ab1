"""Task options given on a command line (``--options laps 1 interventions true``) as Python values."""

from __future__ import annotations


def parse_options(options: dict[str, str]) -> dict:
    """CLI strings to booleans, integers and floats where they read as such; other text stays text."""
    out = {}
    for key, text in options.items():
        value = {"true": True, "false": False}.get(text.lower(), text)
        if isinstance(value, str):
            for kind in (int, float):
                try:
                    value = kind(text)
                    break
                except ValueError:
                    pass
        out[key] = value
    return out
