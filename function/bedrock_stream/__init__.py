"""Stream Amazon Bedrock ConverseStream output through the Lambda streaming Runtime API.

Kept empty on purpose: the runtime loop imports only what it needs so cold start stays short.
"""
