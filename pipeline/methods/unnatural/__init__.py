"""Unnatural Instructions: core examples, outputs, reformulations."""
