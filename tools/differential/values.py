"""Walks over JSON values, shared by the differential modes."""


def leaves(value):
    """Every value inside `value` that is neither an object nor a list."""
    if isinstance(value, dict):
        for inner in value.values():
            yield from leaves(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from leaves(inner)
    else:
        yield value
