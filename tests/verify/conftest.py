"""tests/verify: the pytester fixture runs the polyak pytest plugin in a child session."""

pytest_plugins = ["pytester"]
