"""Entry point of the CrossGuard pack: ``pulumi preview --policy-pack policy``.

Only builds the pack (``PolicyPack`` starts the analyzer's gRPC server and blocks); the rules live in
the ``streaming_policies`` package so tests can import them without starting a server.
"""

from pulumi_policy import EnforcementLevel, PolicyPack
from streaming_policies import ALL_POLICIES

PolicyPack(
    name="streaming-bedrock-api-guards",
    description="Keeps API Gateway response streaming to the Bedrock relay function intact and least-privileged.",
    policies=list(ALL_POLICIES),
    enforcement_level=EnforcementLevel.MANDATORY,
)
