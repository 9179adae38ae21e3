"""Evol-Instruct (WizardLM): rounds of rewriting with elimination."""
