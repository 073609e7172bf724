"""``streaming-bedrock-api verify``: is what got deployed what streaming needs, and does it actually stream?

One concern per module:

- :mod:`.results`: a check's result, the report, its table and JSON renderings, exit codes (pure);
- :mod:`.observed`: the plain data the checks read (what boto3 returned, nothing else);
- :mod:`.checks_api`, :mod:`.checks_function`, :mod:`.checks_bedrock`: configuration checks (pure functions over
  :mod:`.observed` data);
- :mod:`.probe`: the live probe's analysis: timing verdict, SSE order, CORS preflight (pure);
- :mod:`.aws_read`: the boto3 shell, read-only calls only, botocore errors turned into :class:`VerifyUsageError`;
- :mod:`.probe_http`: the probe's HTTP shell (one request at a time, SigV4 or API key);
- :mod:`.target`: where the stack is (``pulumi stack output`` or explicit flags);
- :mod:`.command`: argument parsing and the run (exit 0 all good, 1 a check failed, 2 usage or credentials).
"""
