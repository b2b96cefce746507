"""``make sandbox``: the storage, the pinned engine and both stacks, running until Ctrl-C.

Everything the docs' commands need, on this machine, in a directory outside the clone
(:mod:`devtools.sandbox.place`): an embedded S3+IAM endpoint over TLS per stack behind a relay
that can take it down and bring it back at the same address (:mod:`devtools.sandbox.storage`),
a Pulumi project directory of its own with a local backend and the ``minio`` and ``random``
plugins installed, ``dev`` deployed and ``prod`` ready to deploy (:mod:`devtools.sandbox.stacks`),
the lines that make another shell use it (:mod:`devtools.sandbox.shell`), and the ``sandbox``
command for what only the sandbox can do: an outage, the specification's hand-made storage for
the takeover, the values of the docs' placeholders (:mod:`devtools.sandbox.control`).
:mod:`devtools.sandbox.run` puts them together. docs/try-it-locally.md is the tour.
"""
