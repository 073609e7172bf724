"""A stack's resources as plain data and the links between them (API -> method -> integration -> function ...).

Stack policies see every resource's *outputs* after the program ran (under preview: inputs plus unknown computed
values). Links follow property dependencies (the URNs a property was computed from) or, when those are absent,
known ids. Pure: the adapters build the :class:`Node` objects from the engine's resources.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .model import FUNCTION, INTEGRATION, RESOURCE, REST_API, Findings, Unknown, is_stream, upper


@dataclass(frozen=True)
class Node:
    """One resource of the stack as plain data; ``deps`` maps a property to the URNs it was computed from."""

    resource_type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    deps: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        return self.props.get(key, default)


class StackView:
    """Resources of one stack and the links between them (API -> method -> integration -> function ...)."""

    def __init__(self, nodes: Sequence[Node]) -> None:
        self.nodes = list(nodes)

    def of_type(self, resource_type: str) -> Iterator[Node]:
        return (node for node in self.nodes if node.resource_type == resource_type)

    @staticmethod
    def refers(source: Node, prop: str, target: Node, target_prop: str = "id") -> Any:
        """Whether ``source.prop`` points at ``target``: True, False, or the Unknown that prevents telling."""
        if target.urn in source.deps.get(prop, frozenset()):
            return True
        value, key = source.get(prop), target.get(target_prop)
        if isinstance(value, Unknown):
            return value
        if isinstance(key, Unknown):
            return key
        return value is not None and key is not None and value == key

    def streaming_integrations(self, found: Findings) -> list[Node]:
        result = []
        for node in self.of_type(INTEGRATION):
            stream = is_stream(node.props)
            if isinstance(stream, Unknown):
                found.undecided.append(stream)
            elif stream:
                result.append(node)
        return result

    def linked(
        self, source: Node, prop: str, resource_type: str, found: Findings, target_prop: str = "id"
    ) -> list[Node]:
        """Resources of ``resource_type`` that ``source.prop`` refers to; unknown links are noted, not guessed."""
        result = []
        undecided: list[Unknown] = []
        for target in self.of_type(resource_type):
            link = self.refers(source, prop, target, target_prop)
            if isinstance(link, Unknown):
                undecided.append(link)
            elif link:
                result.append(target)
        if not result and undecided:
            found.undecided.append(undecided[0])
        return result

    def function_of(self, integration: Node, found: Findings) -> list[Node]:
        """The Lambda functions an integration's uri was built from (dependency, or the ARN inside the uri)."""
        result = []
        uri = integration.get("uri")
        for function in self.of_type(FUNCTION):
            if function.urn in integration.deps.get("uri", frozenset()):
                result.append(function)
                continue
            arn = function.get("arn")
            if isinstance(uri, str) and isinstance(arn, str) and f"/functions/{arn}/" in uri:
                result.append(function)
        if not result and isinstance(uri, Unknown):
            found.undecided.append(uri)
        return result

    def resource_path(self, source: Node, found: Findings) -> Any:
        """The resource path ("/stream") a method or integration sits on, or Unknown, or None if not found."""
        for api in self.linked(source, "restApi", REST_API, Findings()):
            if self.refers(source, "resourceId", api, "rootResourceId") is True:
                return "/"
        for resource in self.linked(source, "resourceId", RESOURCE, found):
            return resource.get("path")
        return None

    def same_method(self, method: Node, integration: Node) -> Any:
        """Whether an integration belongs to a method (same API, resource and HTTP method)."""
        if upper(method.get("httpMethod")) != upper(integration.get("httpMethod")):
            return False
        for prop in ("restApi", "resourceId"):
            mine, theirs = method.get(prop), integration.get(prop)
            shared = method.deps.get(prop, frozenset()) & integration.deps.get(prop, frozenset())
            if shared:
                continue
            for value in (mine, theirs):
                if isinstance(value, Unknown):
                    return value
            if mine is None or mine != theirs:
                return False
        return True

    def apis_of(self, integration: Node, found: Findings) -> list[Node]:
        return self.linked(integration, "restApi", REST_API, found)
