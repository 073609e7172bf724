"""StreamingBedrockApi: a Pulumi component for API Gateway REST response streaming from Amazon Bedrock.

The component (and with it Pulumi and pulumi-aws) loads on first use, so the local stack can import
``streaming_bedrock_api.settings`` without paying for the Pulumi SDK import.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .component import StreamingBedrockApi, StreamingBedrockApiArgs

__all__ = ["StreamingBedrockApi", "StreamingBedrockApiArgs"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import component

        return getattr(component, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
