"""StreamingBedrockApi: a Pulumi component for API Gateway REST response streaming from Amazon Bedrock."""
