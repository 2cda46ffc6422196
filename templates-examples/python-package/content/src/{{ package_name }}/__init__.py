"""{{ project_name }}."""

__version__ = "0.1.0"


def greet(name: str) -> str:
    """Return a greeting."""
    return f"Hello, {name}!"
