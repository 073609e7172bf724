"""Named API clients: parsing and validation of ``clients`` (pure, no Pulumi import).

Each client is ``{name, rate_limit?, burst_limit?, quota_per_day?}`` (the stack config may spell the limits in
camelCase: ``rateLimit``, ``burstLimit``, ``quotaPerDay``). A limit a client leaves out is the stack's
(``throttle_rate_limit``, ``throttle_burst_limit``, ``quota_limit_per_day``).

The client's name is its identity everywhere: in the Pulumi resource names (so adding, changing or removing one
client never renames another's resources, whatever its position in the list), in the metrics' ``Client``
dimension, in Bedrock's ``requestMetadata`` and in the function's key-id map. So it is restricted to characters
that are valid in all of them (Bedrock ``requestMetadata`` values:
https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# The client name of the single key a stack gets when no ``clients`` are configured.
DEFAULT_CLIENT = "default"
CLIENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# Lambda allows 4 KB of environment variables in total; the key-id map (10-character ids) must fit beside the rest.
# 50 short names fit; settings.deployed_environment_bytes checks the real total (long names fit fewer).
MAX_CLIENTS = 50
_FIELDS = {
    "name": "name",
    "rate_limit": "rate_limit",
    "rateLimit": "rate_limit",
    "burst_limit": "burst_limit",
    "burstLimit": "burst_limit",
    "quota_per_day": "quota_per_day",
    "quotaPerDay": "quota_per_day",
}


class ClientSpecError(ValueError):
    """A ``clients`` entry is invalid; ``settings`` turns it into a SettingsError for the ``clients`` argument."""


@dataclass(frozen=True)
class ClientSpec:
    """One named client as configured; ``None`` means the stack's default for that limit."""

    name: str
    rate_limit: float | None = None
    burst_limit: int | None = None
    quota_per_day: int | None = None


@dataclass(frozen=True)
class ClientLimits:
    """The limits that apply to one client's API key (its usage plan)."""

    rate_limit: float
    burst_limit: int
    quota_per_day: int


def _number(where: str, value: Any, whole: bool, low: float, high: float) -> float:
    if isinstance(value, bool):
        raise ClientSpecError(f"{where}: expected a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ClientSpecError(f"{where}: expected a number, got {value!r}") from None
    if whole and number != int(number):
        raise ClientSpecError(f"{where}: expected a whole number, got {value!r}")
    if not low <= number <= high:
        raise ClientSpecError(f"{where}: must be between {low:g} and {high:g}, got {number:g}")
    return number


def parse_client(index: int, entry: Any) -> ClientSpec:
    """One ``clients`` entry (a mapping) as a :class:`ClientSpec`."""
    where = f"[{index}]"
    if not isinstance(entry, Mapping):
        raise ClientSpecError(f"{where}: expected an object like {{name: app}}, got {entry!r}")
    values: dict[str, Any] = {}
    for key, value in entry.items():
        field = _FIELDS.get(str(key))
        if field is None:
            raise ClientSpecError(
                f"{where}: unknown field {key!r}; known: name, rate_limit, burst_limit, quota_per_day"
            )
        if value is not None:
            values[field] = value
    name = values.get("name")
    if not isinstance(name, str) or not CLIENT_NAME.match(name):
        raise ClientSpecError(
            f"{where}.name: {name!r} must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    where = f"[{index}] ({name})"
    rate = values.get("rate_limit")
    burst = values.get("burst_limit")
    quota = values.get("quota_per_day")
    return ClientSpec(
        name=name,
        rate_limit=None if rate is None else _number(f"{where}.rate_limit", rate, False, 0.1, 10_000.0),
        burst_limit=None if burst is None else int(_number(f"{where}.burst_limit", burst, True, 1, 5_000)),
        quota_per_day=None if quota is None else int(_number(f"{where}.quota_per_day", quota, True, 1, 100_000_000)),
    )


def parse_clients(value: Any) -> tuple[ClientSpec, ...]:
    """The ``clients`` list (None or empty: no named clients) as validated specs with unique names."""
    if value is None:
        return ()
    if isinstance(value, (Mapping, str, bytes)) or not isinstance(value, Sequence):
        raise ClientSpecError(f"expected a list of clients like [{{name: app}}], got {value!r}")
    if len(value) > MAX_CLIENTS:
        raise ClientSpecError(
            f"at most {MAX_CLIENTS} clients per stack (the function's key-id map must fit Lambda's 4 KB of "
            f"environment variables); got {len(value)}"
        )
    specs = tuple(parse_client(index, entry) for index, entry in enumerate(value))
    seen: set[str] = set()
    for spec in specs:
        # Case-insensitive: names become parts of resource names and dimension values people read.
        if spec.name.lower() in seen:
            raise ClientSpecError(f"client name {spec.name!r} is used twice (names are compared ignoring case)")
        seen.add(spec.name.lower())
    return specs


def client_limits(spec: ClientSpec, rate_limit: float, burst_limit: int, quota_per_day: int) -> ClientLimits:
    """The client's own limits, the stack's where it sets none."""
    return ClientLimits(
        rate_limit=spec.rate_limit if spec.rate_limit is not None else rate_limit,
        burst_limit=spec.burst_limit if spec.burst_limit is not None else burst_limit,
        quota_per_day=spec.quota_per_day if spec.quota_per_day is not None else quota_per_day,
    )


def check_within_stage(specs: Sequence[ClientSpec], stage_rate: float, stage_burst: int) -> None:
    """A client limit above the stage's is never reached: the stage throttles all clients together."""
    for spec in specs:
        if spec.rate_limit is not None and spec.rate_limit > stage_rate:
            raise ClientSpecError(
                f"{spec.name}.rate_limit {spec.rate_limit:g} exceeds the stage's throttle_rate_limit "
                f"{stage_rate:g}, which caps all clients together; raise throttle_rate_limit or lower the client's"
            )
        if spec.burst_limit is not None and spec.burst_limit > stage_burst:
            raise ClientSpecError(
                f"{spec.name}.burst_limit {spec.burst_limit} exceeds the stage's throttle_burst_limit "
                f"{stage_burst}, which caps all clients together; raise throttle_burst_limit or lower the client's"
            )


def resource_slug(name: str) -> str:
    """The client name as it appears in resource names (names are already restricted to safe characters)."""
    return name.lower()


def client_args(spec: ClientSpec) -> dict[str, Any]:
    """A spec back as a component argument entry (limits left out when they are the stack's)."""
    values: dict[str, Any] = {"name": spec.name}
    for field in ("rate_limit", "burst_limit", "quota_per_day"):
        value = getattr(spec, field)
        if value is not None:
            values[field] = value
    return values
