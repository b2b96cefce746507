"""The demos: ``make demo`` (:mod:`~devtools.demos.deploy`: deploy, upload, play, least
privilege) and ``make takeover-demo`` (:mod:`~devtools.demos.takeover`: the hand-made storage
taken over), each on one machine with the real engine and an embedded endpoint."""
