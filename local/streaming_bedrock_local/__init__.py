"""Local streaming stack: run the deployed function artifact the way AWS runs it, on loopback.

Modules: ``eventstream`` (Bedrock's binary frame format), ``bedrock_standin`` (offline Bedrock Runtime
stand-in), ``runtime_api`` (Lambda Runtime API server with streaming responses; its HTTP shell is
``runtime_handler``, an invocation's state ``runtime_invocation``, chunked bodies ``chunked``), and the
gateway/Lambda emulators built on them.
"""
