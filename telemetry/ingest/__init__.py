"""Getting telemetry in: OTLP/HTTP requests, files, and the mapping and writes they share.

``otlp`` decodes requests, ``mapping`` and ``native`` turn spans and JSONL lines
into observation records (``bounds`` refusing numbers out of range and repairing
text), ``writer`` stores them batch by batch, ``files`` and
``http`` are the two ways in, ``report`` sums up what happened.
"""
