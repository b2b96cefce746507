"""Data-subject requests, run by a person as the data-protection steward: erase a call (or a
company) and keep its report, or export a call's recordings with a manifest.

- :mod:`~voice_recordings.subject_requests.erasure`: the erasure, its marker and its checks.
- :mod:`~voice_recordings.subject_requests.erasure_report`: the erasure's report (JSON Lines).
- :mod:`~voice_recordings.subject_requests.export`: the export of a call's stored versions.
- :mod:`~voice_recordings.subject_requests.export_manifest`: the export's manifest.
"""
