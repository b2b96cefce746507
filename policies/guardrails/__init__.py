"""Guardrails for the recordings stack: one rule set, two runners.

``model`` says what a rule sees and finds and how one is declared; ``documents`` reads IAM and
bucket policy documents as MinIO does, ``lifecycle`` what a lifecycle does; ``rules`` is the
catalogue of the ``rules_*`` modules, one per subject, each rule beside its check.

``pack`` runs the rules inside ``pulumi preview --policy-pack policies/guardrails``; ``offline``
runs them on the committed renders (``make guard``) without the engine.
"""
