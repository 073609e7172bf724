"""Where the lean Bedrock client connects and with which credentials, from the Lambda environment (pure).

Endpoint, in botocore's order of precedence:
1. ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``, then ``AWS_ENDPOINT_URL`` (unless ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS``
   is true). A configured URL wins over FIPS and dual-stack, which botocore then passes to the rules as false
   (``botocore.args``: "SDK_ENDPOINT cannot be combined with AWS_USE_FIPS / AWS_USE_DUALSTACK").
2. Otherwise the bedrock-runtime endpoint rule set (botocore ``data/bedrock-runtime/2023-09-30/
   endpoint-rule-set-1.json``): ``https://bedrock-runtime{-fips}.{region}.{suffix}``, where the suffix is the
   partition's ``dualStackDnsSuffix`` with ``AWS_USE_DUALSTACK_ENDPOINT`` and its ``dnsSuffix`` otherwise
   (botocore ``data/partitions.json``; unknown regions fall in the ``aws`` partition). Every partition supports
   both variants, so the rule set's "partition does not support" errors cannot occur.

Credentials: ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` and ``AWS_SESSION_TOKEN`` (or the legacy
``AWS_SECURITY_TOKEN``), which Lambda sets for the execution role. Anything else (SnapStart's container
credentials URI, a profile, a proxy, a custom CA bundle) is left to botocore: :func:`lean_unsupported`
names what is missing and the function builds the botocore client instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from bedrock_stream.sigv4 import Credentials

SERVICE = "bedrock-runtime"
SIGNING_NAME = "bedrock"
# (partition, region pattern, dnsSuffix, dualStackDnsSuffix), in partitions.json order.
PARTITIONS: tuple[tuple[str, str, str, str], ...] = (
    ("aws", r"^(us|eu|ap|sa|ca|me|af|il|mx)\-\w+\-\d+$", "amazonaws.com", "api.aws"),
    ("aws-cn", r"^cn\-\w+\-\d+$", "amazonaws.com.cn", "api.amazonwebservices.com.cn"),
    ("aws-eusc", r"^eusc\-(de)\-\w+\-\d+$", "amazonaws.eu", "api.amazonwebservices.eu"),
    ("aws-iso", r"^us\-iso\-\w+\-\d+$", "c2s.ic.gov", "api.aws.ic.gov"),
    ("aws-iso-b", r"^us\-isob\-\w+\-\d+$", "sc2s.sgov.gov", "api.aws.scloud"),
    ("aws-iso-e", r"^eu\-isoe\-\w+\-\d+$", "cloud.adc-e.uk", "api.cloud-aws.adc-e.uk"),
    ("aws-iso-f", r"^us\-isof\-\w+\-\d+$", "csp.hci.ic.gov", "api.aws.hci.ic.gov"),
    ("aws-us-gov", r"^us\-gov\-\w+\-\d+$", "amazonaws.com", "api.aws"),
)
_VALID_REGION = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9\-]{0,61}[a-zA-Z0-9])?$")  # botocore.utils
# Settings only botocore implements; their presence sends the function to the botocore client.
_BOTOCORE_ONLY = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "AWS_CA_BUNDLE",
                  "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")


class EndpointConfigError(ValueError):
    """The region or endpoint URL cannot be used."""


@dataclass(frozen=True)
class Endpoint:
    url: str
    scheme: str  # "http" or "https"
    host: str  # to connect to (no brackets)
    port: int
    host_header: str  # as signed and sent: lower-case, no default port
    base_path: str  # path prefix of a configured URL, "" normally


def _true(env: Mapping[str, str], name: str) -> bool:
    return env.get(name, "").strip().lower() == "true"


def region_of(env: Mapping[str, str]) -> str:
    return env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or ""


def partition_suffix(region: str, dualstack: bool) -> str:
    for _name, pattern, dns, dual in PARTITIONS:
        if re.match(pattern, region):
            return dual if dualstack else dns
    return PARTITIONS[0][3] if dualstack else PARTITIONS[0][2]


def endpoint_url(env: Mapping[str, str]) -> str:
    if not _true(env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"):
        configured = env.get("AWS_ENDPOINT_URL_BEDROCK_RUNTIME") or env.get("AWS_ENDPOINT_URL")
        if configured:
            return configured
    region = region_of(env)
    if not region:
        raise EndpointConfigError("Invalid Configuration: Missing Region")
    if not _VALID_REGION.match(region):
        raise EndpointConfigError(f"Provided region_name '{region}' doesn't match a supported format.")
    fips = "-fips" if _true(env, "AWS_USE_FIPS_ENDPOINT") else ""
    return f"https://{SERVICE}{fips}.{region}.{partition_suffix(region, _true(env, 'AWS_USE_DUALSTACK_ENDPOINT'))}"


_URL = re.compile(r"^(?P<scheme>https?)://(?:[^@/?#]*@)?(?:\[(?P<ip6>[0-9A-Fa-f:.]+)\]|(?P<host>[^:/?#\[\]]+))"
                  r"(?::(?P<port>[0-9]{1,5}))?(?P<path>/[^?#]*)?(?:[?#].*)?$", re.IGNORECASE)


def resolve_endpoint(env: Mapping[str, str]) -> Endpoint:
    url = endpoint_url(env)
    parts = _URL.match(url)  # a regex, not urllib.parse: it imports ipaddress and more at cold start
    if parts is None:
        raise EndpointConfigError(f"endpoint URL must be http(s)://host[:port][/path], got {url!r}")
    scheme = parts["scheme"].lower()
    default_port = 443 if scheme == "https" else 80
    port = int(parts["port"]) if parts["port"] else default_port
    host = (parts["ip6"] or parts["host"]).lower()
    shown = f"[{host}]" if parts["ip6"] else host
    header = shown if port == default_port else f"{shown}:{port}"
    return Endpoint(url, scheme, host, port, header, (parts["path"] or "").rstrip("/"))


def env_credentials(env: Mapping[str, str]) -> Credentials | None:
    access_key = env.get("AWS_ACCESS_KEY_ID", "")
    secret_key = env.get("AWS_SECRET_ACCESS_KEY", "")
    if not access_key or not secret_key:
        return None
    token = env.get("AWS_SESSION_TOKEN") or env.get("AWS_SECURITY_TOKEN") or None
    return Credentials(access_key, secret_key, token)


def lean_unsupported(env: Mapping[str, str]) -> str | None:
    """Why the lean client cannot serve this environment (botocore is used then), or None."""
    if env.get("BEDROCK_CLIENT", "").strip().lower() == "botocore":
        return "BEDROCK_CLIENT=botocore"
    if env_credentials(env) is None:
        return "no AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in the environment"
    for name in _BOTOCORE_ONLY:
        if env.get(name):
            return f"{name} is set"
    return None
