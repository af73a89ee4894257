from clipmill.qa.types import Expectations


def counts_read(expectations: Expectations) -> dict[str, int]:
    """Every count the plan enforces, exact or the fewest ("a chef" in a kitchen: at least one):
    for tests of how many a prompt names, apart from whether others may be in view."""
    return {**expectations.classes, **expectations.at_least}
