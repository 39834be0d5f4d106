"""Apply: walk the action graph, run each step through its provider, write state after every step."""
