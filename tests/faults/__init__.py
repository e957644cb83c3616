"""Fault tests: real stacks, injected failures, and the same safety invariants after each."""
