"""Guardrails for the recordings stack: one rule set (``rules``), two runners.

``pack`` runs the rules inside ``pulumi preview --policy-pack policies/guardrails``; ``offline``
runs them on the committed renders (``make guard``) without the engine.
"""
