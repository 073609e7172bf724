"""Multi-language entry point: hosts StreamingBedrockApi as the provider "streaming-bedrock-api".

Pulumi runs this file when a TypeScript/Go/YAML program that did `pulumi package add ./components` creates a
``streaming-bedrock-api:index:StreamingBedrockApi``; the schema is inferred from the component's type hints.
"""

from pulumi.provider.experimental import component_provider_host
from streaming_bedrock_api.component import StreamingBedrockApi

PROVIDER_NAME = "streaming-bedrock-api"
VERSION = "0.1.0"

if __name__ == "__main__":
    component_provider_host(components=[StreamingBedrockApi], name=PROVIDER_NAME, version=VERSION)
