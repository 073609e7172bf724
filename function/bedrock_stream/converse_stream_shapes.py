"""ConverseStream output shapes: generated from botocore 1.44.8's bedrock-runtime model (2023-09-30).

Regenerate: ``python -m tests.function.converse_shapes_oracle > function/bedrock_stream/converse_stream_shapes.py``.
A test fails when this drifts from the installed botocore. Shapes not listed (strings, numbers, booleans)
pass through unchanged, as in botocore's JSON event-stream parser.
"""

# ruff: noqa: E501
from __future__ import annotations

from typing import Any

STREAM_MEMBERS: dict[str, str] = {
    'messageStart': 'MessageStartEvent',
    'contentBlockStart': 'ContentBlockStartEvent',
    'contentBlockDelta': 'ContentBlockDeltaEvent',
    'contentBlockStop': 'ContentBlockStopEvent',
    'messageStop': 'MessageStopEvent',
    'metadata': 'ConverseStreamMetadataEvent',
    'internalServerException': 'InternalServerException',
    'modelStreamErrorException': 'ModelStreamErrorException',
    'validationException': 'ValidationException',
    'throttlingException': 'ThrottlingException',
    'serviceUnavailableException': 'ServiceUnavailableException',
}

SHAPES: dict[str, tuple[Any, ...]] = {
    'AppliedGuardrailDetails': (
        'structure', (
        ('guardrailId', 'guardrailId', 'GuardrailId'),
        ('guardrailVersion', 'guardrailVersion', 'GuardrailVersion'),
        ('guardrailArn', 'guardrailArn', 'GuardrailArn'),
        ('guardrailOrigin', 'guardrailOrigin', 'GuardrailOriginList'),
        ('guardrailOwnership', 'guardrailOwnership', 'GuardrailOwnership'),
        ), False),
    'Blob': ('blob',),
    'CacheDetail': (
        'structure', (
        ('ttl', 'ttl', 'CacheTTL'),
        ('inputTokens', 'inputTokens', 'CacheDetailInputTokensInteger'),
        ), False),
    'CacheDetailsList': ('list', 'CacheDetail'),
    'CitationLocation': (
        'structure', (
        ('web', 'web', 'WebLocation'),
        ('documentChar', 'documentChar', 'DocumentCharLocation'),
        ('documentPage', 'documentPage', 'DocumentPageLocation'),
        ('documentChunk', 'documentChunk', 'DocumentChunkLocation'),
        ('searchResultLocation', 'searchResultLocation', 'SearchResultLocation'),
        ), True),
    'CitationSourceContentDelta': (
        'structure', (
        ('text', 'text', 'String'),
        ), False),
    'CitationSourceContentListDelta': ('list', 'CitationSourceContentDelta'),
    'CitationsDelta': (
        'structure', (
        ('title', 'title', 'String'),
        ('source', 'source', 'String'),
        ('sourceContent', 'sourceContent', 'CitationSourceContentListDelta'),
        ('location', 'location', 'CitationLocation'),
        ), False),
    'ContentBlockDelta': (
        'structure', (
        ('text', 'text', 'String'),
        ('toolUse', 'toolUse', 'ToolUseBlockDelta'),
        ('toolResult', 'toolResult', 'ToolResultBlocksDelta'),
        ('reasoningContent', 'reasoningContent', 'ReasoningContentBlockDelta'),
        ('citation', 'citation', 'CitationsDelta'),
        ('image', 'image', 'ImageBlockDelta'),
        ), True),
    'ContentBlockDeltaEvent': (
        'structure', (
        ('delta', 'delta', 'ContentBlockDelta'),
        ('contentBlockIndex', 'contentBlockIndex', 'NonNegativeInteger'),
        ), False),
    'ContentBlockStart': (
        'structure', (
        ('toolUse', 'toolUse', 'ToolUseBlockStart'),
        ('toolResult', 'toolResult', 'ToolResultBlockStart'),
        ('image', 'image', 'ImageBlockStart'),
        ), True),
    'ContentBlockStartEvent': (
        'structure', (
        ('start', 'start', 'ContentBlockStart'),
        ('contentBlockIndex', 'contentBlockIndex', 'NonNegativeInteger'),
        ), False),
    'ContentBlockStopEvent': (
        'structure', (
        ('contentBlockIndex', 'contentBlockIndex', 'NonNegativeInteger'),
        ), False),
    'ConverseStreamMetadataEvent': (
        'structure', (
        ('usage', 'usage', 'TokenUsage'),
        ('metrics', 'metrics', 'ConverseStreamMetrics'),
        ('trace', 'trace', 'ConverseStreamTrace'),
        ('performanceConfig', 'performanceConfig', 'PerformanceConfiguration'),
        ('serviceTier', 'serviceTier', 'ServiceTier'),
        ), False),
    'ConverseStreamMetrics': (
        'structure', (
        ('latencyMs', 'latencyMs', 'Long'),
        ), False),
    'ConverseStreamTrace': (
        'structure', (
        ('guardrail', 'guardrail', 'GuardrailTraceAssessment'),
        ('promptRouter', 'promptRouter', 'PromptRouterTrace'),
        ), False),
    'Document': ('document',),
    'DocumentCharLocation': (
        'structure', (
        ('documentIndex', 'documentIndex', 'DocumentCharLocationDocumentIndexInteger'),
        ('start', 'start', 'DocumentCharLocationStartInteger'),
        ('end', 'end', 'DocumentCharLocationEndInteger'),
        ), False),
    'DocumentChunkLocation': (
        'structure', (
        ('documentIndex', 'documentIndex', 'DocumentChunkLocationDocumentIndexInteger'),
        ('start', 'start', 'DocumentChunkLocationStartInteger'),
        ('end', 'end', 'DocumentChunkLocationEndInteger'),
        ), False),
    'DocumentPageLocation': (
        'structure', (
        ('documentIndex', 'documentIndex', 'DocumentPageLocationDocumentIndexInteger'),
        ('start', 'start', 'DocumentPageLocationStartInteger'),
        ('end', 'end', 'DocumentPageLocationEndInteger'),
        ), False),
    'ErrorBlock': (
        'structure', (
        ('message', 'message', 'String'),
        ), False),
    'GuardrailAssessment': (
        'structure', (
        ('topicPolicy', 'topicPolicy', 'GuardrailTopicPolicyAssessment'),
        ('contentPolicy', 'contentPolicy', 'GuardrailContentPolicyAssessment'),
        ('wordPolicy', 'wordPolicy', 'GuardrailWordPolicyAssessment'),
        ('sensitiveInformationPolicy', 'sensitiveInformationPolicy', 'GuardrailSensitiveInformationPolicyAssessment'),
        ('contextualGroundingPolicy', 'contextualGroundingPolicy', 'GuardrailContextualGroundingPolicyAssessment'),
        ('automatedReasoningPolicy', 'automatedReasoningPolicy', 'GuardrailAutomatedReasoningPolicyAssessment'),
        ('invocationMetrics', 'invocationMetrics', 'GuardrailInvocationMetrics'),
        ('appliedGuardrailDetails', 'appliedGuardrailDetails', 'AppliedGuardrailDetails'),
        ), False),
    'GuardrailAssessmentList': ('list', 'GuardrailAssessment'),
    'GuardrailAssessmentListMap': ('map', 'String', 'GuardrailAssessmentList'),
    'GuardrailAssessmentMap': ('map', 'String', 'GuardrailAssessment'),
    'GuardrailAutomatedReasoningDifferenceScenarioList': ('list', 'GuardrailAutomatedReasoningScenario'),
    'GuardrailAutomatedReasoningFinding': (
        'structure', (
        ('valid', 'valid', 'GuardrailAutomatedReasoningValidFinding'),
        ('invalid', 'invalid', 'GuardrailAutomatedReasoningInvalidFinding'),
        ('satisfiable', 'satisfiable', 'GuardrailAutomatedReasoningSatisfiableFinding'),
        ('impossible', 'impossible', 'GuardrailAutomatedReasoningImpossibleFinding'),
        ('translationAmbiguous', 'translationAmbiguous', 'GuardrailAutomatedReasoningTranslationAmbiguousFinding'),
        ('tooComplex', 'tooComplex', 'GuardrailAutomatedReasoningTooComplexFinding'),
        ('noTranslations', 'noTranslations', 'GuardrailAutomatedReasoningNoTranslationsFinding'),
        ), True),
    'GuardrailAutomatedReasoningFindingList': ('list', 'GuardrailAutomatedReasoningFinding'),
    'GuardrailAutomatedReasoningImpossibleFinding': (
        'structure', (
        ('translation', 'translation', 'GuardrailAutomatedReasoningTranslation'),
        ('contradictingRules', 'contradictingRules', 'GuardrailAutomatedReasoningRuleList'),
        ('logicWarning', 'logicWarning', 'GuardrailAutomatedReasoningLogicWarning'),
        ), False),
    'GuardrailAutomatedReasoningInputTextReference': (
        'structure', (
        ('text', 'text', 'GuardrailAutomatedReasoningStatementNaturalLanguageContent'),
        ), False),
    'GuardrailAutomatedReasoningInputTextReferenceList': ('list', 'GuardrailAutomatedReasoningInputTextReference'),
    'GuardrailAutomatedReasoningInvalidFinding': (
        'structure', (
        ('translation', 'translation', 'GuardrailAutomatedReasoningTranslation'),
        ('contradictingRules', 'contradictingRules', 'GuardrailAutomatedReasoningRuleList'),
        ('logicWarning', 'logicWarning', 'GuardrailAutomatedReasoningLogicWarning'),
        ), False),
    'GuardrailAutomatedReasoningLogicWarning': (
        'structure', (
        ('type', 'type', 'GuardrailAutomatedReasoningLogicWarningType'),
        ('premises', 'premises', 'GuardrailAutomatedReasoningStatementList'),
        ('claims', 'claims', 'GuardrailAutomatedReasoningStatementList'),
        ), False),
    'GuardrailAutomatedReasoningNoTranslationsFinding': (
        'structure', (
        ), False),
    'GuardrailAutomatedReasoningPolicyAssessment': (
        'structure', (
        ('findings', 'findings', 'GuardrailAutomatedReasoningFindingList'),
        ), False),
    'GuardrailAutomatedReasoningRule': (
        'structure', (
        ('identifier', 'identifier', 'AutomatedReasoningRuleIdentifier'),
        ('policyVersionArn', 'policyVersionArn', 'GuardrailAutomatedReasoningPolicyVersionArn'),
        ), False),
    'GuardrailAutomatedReasoningRuleList': ('list', 'GuardrailAutomatedReasoningRule'),
    'GuardrailAutomatedReasoningSatisfiableFinding': (
        'structure', (
        ('translation', 'translation', 'GuardrailAutomatedReasoningTranslation'),
        ('claimsTrueScenario', 'claimsTrueScenario', 'GuardrailAutomatedReasoningScenario'),
        ('claimsFalseScenario', 'claimsFalseScenario', 'GuardrailAutomatedReasoningScenario'),
        ('logicWarning', 'logicWarning', 'GuardrailAutomatedReasoningLogicWarning'),
        ), False),
    'GuardrailAutomatedReasoningScenario': (
        'structure', (
        ('statements', 'statements', 'GuardrailAutomatedReasoningStatementList'),
        ), False),
    'GuardrailAutomatedReasoningStatement': (
        'structure', (
        ('logic', 'logic', 'GuardrailAutomatedReasoningStatementLogicContent'),
        ('naturalLanguage', 'naturalLanguage', 'GuardrailAutomatedReasoningStatementNaturalLanguageContent'),
        ), False),
    'GuardrailAutomatedReasoningStatementList': ('list', 'GuardrailAutomatedReasoningStatement'),
    'GuardrailAutomatedReasoningTooComplexFinding': (
        'structure', (
        ), False),
    'GuardrailAutomatedReasoningTranslation': (
        'structure', (
        ('premises', 'premises', 'GuardrailAutomatedReasoningStatementList'),
        ('claims', 'claims', 'GuardrailAutomatedReasoningStatementList'),
        ('untranslatedPremises', 'untranslatedPremises', 'GuardrailAutomatedReasoningInputTextReferenceList'),
        ('untranslatedClaims', 'untranslatedClaims', 'GuardrailAutomatedReasoningInputTextReferenceList'),
        ('confidence', 'confidence', 'GuardrailAutomatedReasoningTranslationConfidence'),
        ), False),
    'GuardrailAutomatedReasoningTranslationAmbiguousFinding': (
        'structure', (
        ('options', 'options', 'GuardrailAutomatedReasoningTranslationOptionList'),
        ('differenceScenarios', 'differenceScenarios', 'GuardrailAutomatedReasoningDifferenceScenarioList'),
        ), False),
    'GuardrailAutomatedReasoningTranslationList': ('list', 'GuardrailAutomatedReasoningTranslation'),
    'GuardrailAutomatedReasoningTranslationOption': (
        'structure', (
        ('translations', 'translations', 'GuardrailAutomatedReasoningTranslationList'),
        ), False),
    'GuardrailAutomatedReasoningTranslationOptionList': ('list', 'GuardrailAutomatedReasoningTranslationOption'),
    'GuardrailAutomatedReasoningValidFinding': (
        'structure', (
        ('translation', 'translation', 'GuardrailAutomatedReasoningTranslation'),
        ('claimsTrueScenario', 'claimsTrueScenario', 'GuardrailAutomatedReasoningScenario'),
        ('supportingRules', 'supportingRules', 'GuardrailAutomatedReasoningRuleList'),
        ('logicWarning', 'logicWarning', 'GuardrailAutomatedReasoningLogicWarning'),
        ), False),
    'GuardrailContentFilter': (
        'structure', (
        ('type', 'type', 'GuardrailContentFilterType'),
        ('confidence', 'confidence', 'GuardrailContentFilterConfidence'),
        ('filterStrength', 'filterStrength', 'GuardrailContentFilterStrength'),
        ('action', 'action', 'GuardrailContentPolicyAction'),
        ('detected', 'detected', 'Boolean'),
        ), False),
    'GuardrailContentFilterList': ('list', 'GuardrailContentFilter'),
    'GuardrailContentPolicyAssessment': (
        'structure', (
        ('filters', 'filters', 'GuardrailContentFilterList'),
        ), False),
    'GuardrailContextualGroundingFilter': (
        'structure', (
        ('type', 'type', 'GuardrailContextualGroundingFilterType'),
        ('threshold', 'threshold', 'GuardrailContextualGroundingFilterThresholdDouble'),
        ('score', 'score', 'GuardrailContextualGroundingFilterScoreDouble'),
        ('action', 'action', 'GuardrailContextualGroundingPolicyAction'),
        ('detected', 'detected', 'Boolean'),
        ), False),
    'GuardrailContextualGroundingFilters': ('list', 'GuardrailContextualGroundingFilter'),
    'GuardrailContextualGroundingPolicyAssessment': (
        'structure', (
        ('filters', 'filters', 'GuardrailContextualGroundingFilters'),
        ), False),
    'GuardrailCoverage': (
        'structure', (
        ('textCharacters', 'textCharacters', 'GuardrailTextCharactersCoverage'),
        ('images', 'images', 'GuardrailImageCoverage'),
        ), False),
    'GuardrailCustomWord': (
        'structure', (
        ('match', 'match', 'String'),
        ('action', 'action', 'GuardrailWordPolicyAction'),
        ('detected', 'detected', 'Boolean'),
        ), False),
    'GuardrailCustomWordList': ('list', 'GuardrailCustomWord'),
    'GuardrailImageCoverage': (
        'structure', (
        ('guarded', 'guarded', 'ImagesGuarded'),
        ('total', 'total', 'ImagesTotal'),
        ), False),
    'GuardrailInvocationMetrics': (
        'structure', (
        ('guardrailProcessingLatency', 'guardrailProcessingLatency', 'GuardrailProcessingLatency'),
        ('usage', 'usage', 'GuardrailUsage'),
        ('guardrailCoverage', 'guardrailCoverage', 'GuardrailCoverage'),
        ), False),
    'GuardrailManagedWord': (
        'structure', (
        ('match', 'match', 'String'),
        ('type', 'type', 'GuardrailManagedWordType'),
        ('action', 'action', 'GuardrailWordPolicyAction'),
        ('detected', 'detected', 'Boolean'),
        ), False),
    'GuardrailManagedWordList': ('list', 'GuardrailManagedWord'),
    'GuardrailOriginList': ('list', 'GuardrailOrigin'),
    'GuardrailPiiEntityFilter': (
        'structure', (
        ('match', 'match', 'String'),
        ('type', 'type', 'GuardrailPiiEntityType'),
        ('action', 'action', 'GuardrailSensitiveInformationPolicyAction'),
        ('detected', 'detected', 'Boolean'),
        ), False),
    'GuardrailPiiEntityFilterList': ('list', 'GuardrailPiiEntityFilter'),
    'GuardrailRegexFilter': (
        'structure', (
        ('name', 'name', 'String'),
        ('match', 'match', 'String'),
        ('regex', 'regex', 'String'),
        ('action', 'action', 'GuardrailSensitiveInformationPolicyAction'),
        ('detected', 'detected', 'Boolean'),
        ), False),
    'GuardrailRegexFilterList': ('list', 'GuardrailRegexFilter'),
    'GuardrailSensitiveInformationPolicyAssessment': (
        'structure', (
        ('piiEntities', 'piiEntities', 'GuardrailPiiEntityFilterList'),
        ('regexes', 'regexes', 'GuardrailRegexFilterList'),
        ), False),
    'GuardrailTextCharactersCoverage': (
        'structure', (
        ('guarded', 'guarded', 'TextCharactersGuarded'),
        ('total', 'total', 'TextCharactersTotal'),
        ), False),
    'GuardrailTopic': (
        'structure', (
        ('name', 'name', 'String'),
        ('type', 'type', 'GuardrailTopicType'),
        ('action', 'action', 'GuardrailTopicPolicyAction'),
        ('detected', 'detected', 'Boolean'),
        ), False),
    'GuardrailTopicList': ('list', 'GuardrailTopic'),
    'GuardrailTopicPolicyAssessment': (
        'structure', (
        ('topics', 'topics', 'GuardrailTopicList'),
        ), False),
    'GuardrailTraceAssessment': (
        'structure', (
        ('modelOutput', 'modelOutput', 'ModelOutputs'),
        ('inputAssessment', 'inputAssessment', 'GuardrailAssessmentMap'),
        ('outputAssessments', 'outputAssessments', 'GuardrailAssessmentListMap'),
        ('actionReason', 'actionReason', 'String'),
        ), False),
    'GuardrailUsage': (
        'structure', (
        ('topicPolicyUnits', 'topicPolicyUnits', 'GuardrailTopicPolicyUnitsProcessed'),
        ('contentPolicyUnits', 'contentPolicyUnits', 'GuardrailContentPolicyUnitsProcessed'),
        ('wordPolicyUnits', 'wordPolicyUnits', 'GuardrailWordPolicyUnitsProcessed'),
        ('sensitiveInformationPolicyUnits', 'sensitiveInformationPolicyUnits', 'GuardrailSensitiveInformationPolicyUnitsProcessed'),
        ('sensitiveInformationPolicyFreeUnits', 'sensitiveInformationPolicyFreeUnits', 'GuardrailSensitiveInformationPolicyFreeUnitsProcessed'),
        ('contextualGroundingPolicyUnits', 'contextualGroundingPolicyUnits', 'GuardrailContextualGroundingPolicyUnitsProcessed'),
        ('contentPolicyImageUnits', 'contentPolicyImageUnits', 'GuardrailContentPolicyImageUnitsProcessed'),
        ('automatedReasoningPolicyUnits', 'automatedReasoningPolicyUnits', 'GuardrailAutomatedReasoningPolicyUnitsProcessed'),
        ('automatedReasoningPolicies', 'automatedReasoningPolicies', 'GuardrailAutomatedReasoningPoliciesProcessed'),
        ), False),
    'GuardrailWordPolicyAssessment': (
        'structure', (
        ('customWords', 'customWords', 'GuardrailCustomWordList'),
        ('managedWordLists', 'managedWordLists', 'GuardrailManagedWordList'),
        ), False),
    'ImageBlockDelta': (
        'structure', (
        ('source', 'source', 'ImageSource'),
        ('error', 'error', 'ErrorBlock'),
        ), False),
    'ImageBlockStart': (
        'structure', (
        ('format', 'format', 'ImageFormat'),
        ), False),
    'ImageSource': (
        'structure', (
        ('bytes', 'bytes', 'ImageSourceBytesBlob'),
        ('s3Location', 's3Location', 'S3Location'),
        ), True),
    'ImageSourceBytesBlob': ('blob',),
    'InternalServerException': (
        'structure', (
        ('message', 'message', 'NonBlankString'),
        ), False),
    'MessageStartEvent': (
        'structure', (
        ('role', 'role', 'ConversationRole'),
        ), False),
    'MessageStopEvent': (
        'structure', (
        ('stopReason', 'stopReason', 'StopReason'),
        ('additionalModelResponseFields', 'additionalModelResponseFields', 'Document'),
        ), False),
    'ModelOutputs': ('list', 'GuardrailOutputText'),
    'ModelStreamErrorException': (
        'structure', (
        ('message', 'message', 'NonBlankString'),
        ('originalStatusCode', 'originalStatusCode', 'StatusCode'),
        ('originalMessage', 'originalMessage', 'NonBlankString'),
        ), False),
    'PerformanceConfiguration': (
        'structure', (
        ('latency', 'latency', 'PerformanceConfigLatency'),
        ), False),
    'PromptRouterTrace': (
        'structure', (
        ('invokedModelId', 'invokedModelId', 'InvokedModelId'),
        ), False),
    'ReasoningContentBlockDelta': (
        'structure', (
        ('text', 'text', 'String'),
        ('redactedContent', 'redactedContent', 'Blob'),
        ('signature', 'signature', 'String'),
        ), True),
    'S3Location': (
        'structure', (
        ('uri', 'uri', 'S3Uri'),
        ('bucketOwner', 'bucketOwner', 'AccountId'),
        ), False),
    'SearchResultLocation': (
        'structure', (
        ('searchResultIndex', 'searchResultIndex', 'SearchResultLocationSearchResultIndexInteger'),
        ('start', 'start', 'SearchResultLocationStartInteger'),
        ('end', 'end', 'SearchResultLocationEndInteger'),
        ), False),
    'ServiceTier': (
        'structure', (
        ('type', 'type', 'ServiceTierType'),
        ), False),
    'ServiceUnavailableException': (
        'structure', (
        ('message', 'message', 'NonBlankString'),
        ), False),
    'ThrottlingException': (
        'structure', (
        ('message', 'message', 'NonBlankString'),
        ), False),
    'TokenUsage': (
        'structure', (
        ('inputTokens', 'inputTokens', 'TokenUsageInputTokensInteger'),
        ('outputTokens', 'outputTokens', 'TokenUsageOutputTokensInteger'),
        ('totalTokens', 'totalTokens', 'TokenUsageTotalTokensInteger'),
        ('cacheReadInputTokens', 'cacheReadInputTokens', 'TokenUsageCacheReadInputTokensInteger'),
        ('cacheWriteInputTokens', 'cacheWriteInputTokens', 'TokenUsageCacheWriteInputTokensInteger'),
        ('cacheDetails', 'cacheDetails', 'CacheDetailsList'),
        ), False),
    'ToolResultBlockDelta': (
        'structure', (
        ('text', 'text', 'String'),
        ('json', 'json', 'Document'),
        ), True),
    'ToolResultBlockStart': (
        'structure', (
        ('toolUseId', 'toolUseId', 'ToolUseId'),
        ('type', 'type', 'String'),
        ('status', 'status', 'ToolResultStatus'),
        ), False),
    'ToolResultBlocksDelta': ('list', 'ToolResultBlockDelta'),
    'ToolUseBlockDelta': (
        'structure', (
        ('input', 'input', 'String'),
        ), False),
    'ToolUseBlockStart': (
        'structure', (
        ('toolUseId', 'toolUseId', 'ToolUseId'),
        ('name', 'name', 'ToolName'),
        ('type', 'type', 'ToolUseType'),
        ), False),
    'ValidationException': (
        'structure', (
        ('message', 'message', 'NonBlankString'),
        ), False),
    'WebLocation': (
        'structure', (
        ('url', 'url', 'String'),
        ('domain', 'domain', 'String'),
        ), False),
}
