"""``make review``: what a change does to each stack, as tables a person reads in a terminal and in
the pull request's comment (docs/operating.md, "Reviewing a change").

"Before" is each committed render at a base revision (``git show <base>:policies/rendered/...``),
"after" what the program renders now, in memory (:mod:`infra.render`). Between them: the resources
created, updated, replaced or deleted (:mod:`.resources`), each identity's grants
(:mod:`.grants`), and the retention MinIO applies to each kind of each class of company ids
(:mod:`.retention`, from the guardrails' own reading of a lifecycle); :mod:`.report` lays them
out, ``python -m policies.review`` prints them.
"""
