"""Requests to addresses that admins type in (webhook targets today, chat webhooks next).

One rule, applied by one function wherever a target is saved or sent to:

- :func:`parse_target` reads the URL once and accepts only a plainly written one: http or
  https, a host as DNS names and IP literals are normally written (no percent-encoding, no
  short or numeric IPv4 forms, no trailing dot, no userinfo, no whitespace or backslash;
  international names are converted to their A-labels), an explicit port or none.
- :func:`check_target` resolves the host once and refuses the target unless every address
  it resolves to is on the public internet (:func:`is_public_address`); a name that does
  not resolve is refused too.
- :func:`post` connects to exactly those addresses (never resolving the name again, so a
  DNS answer that changes after the check cannot send the request elsewhere), names the
  host in ``Host`` and, over https, in SNI and the certificate check. Redirects are not
  followed. Failures are reported in a few coarse words, never with an errno or a reason
  that would tell open, closed and filtered ports apart.
"""

from __future__ import annotations

import functools
import http.client
import ipaddress
import re
import socket
import ssl
import time
from dataclasses import dataclass

import idna

from moderation.domain.errors import N_, InvalidInput

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_LENGTH = 2000
DEFAULT_PORTS = {"http": 80, "https": 443}
#: How much of an answer is read: the status is what counts.
MAX_ANSWER_BYTES = 65536

#: Log texts: coarse on purpose (see the module's docstring).
REFUSED_URL = "refused: invalid URL"
REFUSED_NOT_FOUND = "refused: host not found"
REFUSED_PRIVATE = "refused: private address"
CONNECTION_FAILED = "connection failed"
TIMED_OUT = "timed out"
INVALID_ANSWER = "invalid answer"

_REFUSED_V4 = tuple(
    ipaddress.IPv4Network(network)
    for network in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",
        "100.64.0.0/10",  # shared address space (carrier-grade NAT)
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, cloud metadata
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",
        "192.31.196.0/24",
        "192.52.193.0/24",
        "192.88.99.0/24",  # 6to4 relays
        "192.168.0.0/16",
        "192.175.48.0/24",
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and the broadcast address
    )
)
_REFUSED_V6 = tuple(
    ipaddress.IPv6Network(network)
    for network in (
        "::/8",  # unspecified, loopback, IPv4-compatible and -translated (mapped: see below)
        "64:ff9b::/96",  # NAT64: the translator reaches whatever IPv4 address is inside
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard
        "2001::/23",  # IETF protocol assignments, Teredo (2001::/32) among them
        "2001:db8::/32",
        "2002::/16",  # 6to4: an IPv4 address inside
        "3fff::/20",  # documentation
        "5f00::/16",  # segment routing
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local
        "ff00::/8",  # multicast
    )
)

_DOTTED_QUAD = re.compile(
    r"(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}"
)
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_NUMERIC_LABEL = re.compile(r"\d+|0x[0-9a-f]*")
_PORT = re.compile(r"[1-9]\d{0,4}")
_SCHEME = re.compile(r"(https?)://", re.IGNORECASE)


class TargetRefused(InvalidInput):
    """A URL that may not be sent to; ``log_text`` is what a delivery log records."""

    def __init__(self, message: str, log_text: str, **params: object) -> None:
        super().__init__(message, **params)
        self.log_text = log_text


@dataclass(frozen=True)
class ParsedURL:
    """A plainly written http(s) URL, in its canonical form."""

    url: str
    scheme: str
    host: str  # lower-case ASCII (A-labels); an IPv6 literal without brackets
    port: int
    request_target: str  # path and query, as sent in the request line
    address: IPAddress | None  # the host, when it is an IP literal


@dataclass(frozen=True)
class Target:
    """A parsed URL and the addresses that were checked: the only ones connected to."""

    parsed: ParsedURL
    addresses: tuple[IPAddress, ...]


@dataclass(frozen=True)
class Result:
    """The outcome of one request: a status, or a coarse error."""

    status_code: int | None
    error: str
    duration_ms: int
    #: The start of the answer's body (at most :data:`MAX_ANSWER_BYTES`), for the log.
    body: bytes = b""


def _refuse_url(message: str, **params: object) -> TargetRefused:
    return TargetRefused(message, REFUSED_URL, **params)


def parse_target(url: str) -> ParsedURL:
    """Read ``url`` once; raise :class:`TargetRefused` unless it is plainly written."""
    if len(url) > MAX_URL_LENGTH:
        raise _refuse_url(N_("The URL is longer than %(max)d characters."), max=MAX_URL_LENGTH)
    if any(ord(char) <= 0x20 or ord(char) == 0x7F or char == "\\" for char in url):
        raise _refuse_url(N_("The URL must not contain spaces, control characters or backslashes."))
    scheme_match = _SCHEME.match(url)
    if scheme_match is None:
        raise _refuse_url(N_("The URL must be an http:// or https:// address."))
    scheme = scheme_match.group(1).lower()
    rest = url[scheme_match.end() :]
    if "#" in rest:
        raise _refuse_url(N_("The URL must not have a fragment (#...)."))
    split_at = min((index for index in (rest.find("/"), rest.find("?")) if index >= 0), default=-1)
    authority, request_target = (rest, "") if split_at < 0 else (rest[:split_at], rest[split_at:])
    if "@" in authority:
        raise _refuse_url(N_("The URL must not carry a user name or password."))
    if "%" in authority:
        raise _refuse_url(N_("The URL's host must not be percent-encoded."))
    host_text, port_text = _split_authority(authority)
    port = _port(port_text, DEFAULT_PORTS[scheme])
    host, address = _host(host_text)
    if not request_target.isascii():
        raise _refuse_url(N_("The URL's path must be ASCII: percent-encode other characters."))
    if not request_target.startswith("/"):
        request_target = "/" + request_target
    shown_host = f"[{host}]" if isinstance(address, ipaddress.IPv6Address) else host
    shown_port = "" if port == DEFAULT_PORTS[scheme] else f":{port}"
    return ParsedURL(
        url=f"{scheme}://{shown_host}{shown_port}{request_target}",
        scheme=scheme,
        host=host,
        port=port,
        request_target=request_target,
        address=address,
    )


def _split_authority(authority: str) -> tuple[str, str | None]:
    """``host`` and ``port`` (``None`` when absent) of ``host[:port]`` or ``[v6][:port]``."""
    if authority.startswith("["):
        end = authority.find("]")
        after = authority[end + 1 :] if end >= 0 else ""
        if end < 0 or (after and not after.startswith(":")):
            raise _refuse_url(N_("The URL's host is not a valid IPv6 address in brackets."))
        return authority[: end + 1], (after[1:] if after else None)
    if authority.count(":") > 1:
        raise _refuse_url(N_("The URL's host is not valid; write IPv6 addresses in brackets."))
    host, colon, port = authority.partition(":")
    return host, (port if colon else None)


def _port(text: str | None, default: int) -> int:
    if text is None:
        return default
    if not _PORT.fullmatch(text) or int(text) > 65535:
        raise _refuse_url(N_("The URL's port must be a number from 1 to 65535."))
    return int(text)


def _host(text: str) -> tuple[str, IPAddress | None]:
    """The canonical host, and its address when it is an IP literal."""
    if text.startswith("["):
        try:
            address = ipaddress.IPv6Address(text[1:-1])
        except ValueError:
            raise _refuse_url(
                N_("The URL's host is not a valid IPv6 address in brackets.")
            ) from None
        return address.compressed, address
    if not text:
        raise _refuse_url(N_("The URL needs a host."))
    if not text.isascii():
        return _international_name(text), None
    host = text.lower()
    labels = host.split(".")
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        # what URL parsers read as an IPv4 address: only the usual four decimal numbers
        if not _DOTTED_QUAD.fullmatch(host):
            raise _refuse_url(
                N_(
                    "The URL's host looks like an IPv4 address but is not written as four "
                    "decimal numbers (like 192.0.2.10)."
                )
            )
        return host, ipaddress.IPv4Address(host)
    _check_name(labels)
    return host, None


def _international_name(text: str) -> str:
    """A name with non-ASCII letters, label by label in A-labels (IDNA 2008, UTS 46
    mapping), refused when the mapping would hide a dot or yield an IPv4-like name."""
    labels = []
    for label in text.split("."):
        try:
            converted = idna.encode(label, uts46=True).decode("ascii") if label else ""
        except (idna.IDNAError, UnicodeError):
            raise _refuse_url(N_("The URL's host is not a valid international name.")) from None
        if "." in converted:
            raise _refuse_url(N_("The URL's host is not a valid international name."))
        labels.append(converted)
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        raise _refuse_url(N_("The URL's host is not a valid international name."))
    _check_name(labels)
    return ".".join(labels)


def _check_name(labels: list[str]) -> None:
    """Letters, digits and inner hyphens; no empty label (nor a trailing dot); valid
    A-labels; at most 253 characters."""
    if len(".".join(labels)) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise _refuse_url(
            N_(
                "The URL's host must be a plain host name (letters, digits, hyphens and "
                "dots, no trailing dot) or an IP address."
            )
        )
    for label in labels:
        if label.startswith("xn--"):
            try:
                valid = idna.encode(idna.decode(label)).decode("ascii") == label
            except (idna.IDNAError, UnicodeError):
                valid = False
            if not valid:
                raise _refuse_url(N_("The URL's host is not a valid international name."))


def is_public_address(address: IPAddress) -> bool:
    """Whether ``address`` is on the public internet: not private, loopback, link-local,
    shared, multicast, reserved or documentation, and not one of the IPv6 forms that carry
    an IPv4 address to somewhere else (NAT64, 6to4, Teredo, compatible, translated). An
    IPv4-mapped address is judged by the IPv4 address inside."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return is_public_address(address.ipv4_mapped)
        if any(address in network for network in _REFUSED_V6) or address.is_site_local:
            return False
    elif any(address in network for network in _REFUSED_V4):
        return False
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def resolve(parsed: ParsedURL) -> tuple[IPAddress, ...]:
    """Every address the host resolves to (the literal itself for an IP host)."""
    if parsed.address is not None:
        return (parsed.address,)
    try:
        infos = socket.getaddrinfo(parsed.host, parsed.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError):
        infos = []
    addresses: dict[IPAddress, None] = {}
    for family, _type, _proto, _name, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6):
            addresses[ipaddress.ip_address(str(sockaddr[0]).split("%")[0])] = None
    if not addresses:
        raise TargetRefused(
            N_("The host %(host)s of the URL does not resolve (right now)."),
            REFUSED_NOT_FOUND,
            host=parsed.host,
        )
    return tuple(addresses)


def check_target(url: str, allow_private: bool) -> Target:
    """The one rule for outbound targets: a plainly written URL whose host resolves, to
    public addresses only unless ``allow_private``. Raises :class:`TargetRefused`."""
    parsed = parse_target(url)
    addresses = resolve(parsed)
    if not allow_private and not all(is_public_address(address) for address in addresses):
        raise TargetRefused(
            N_(
                "The URL %(url)s points to a private or loopback address (or another one "
                "that is not on the public internet); set "
                "MODERATION_WEBHOOK_ALLOW_PRIVATE_TARGETS to allow it."
            ),
            REFUSED_PRIVATE,
            url=parsed.url,
        )
    return Target(parsed, addresses)


def post(target: Target, headers: dict[str, str], body: bytes, timeout: float) -> Result:
    """POST ``body`` to the target's checked addresses; never raises for network trouble."""
    started = time.monotonic()
    connection: http.client.HTTPConnection = (
        _PinnedHTTPSConnection(target, timeout)
        if target.parsed.scheme == "https"
        else _PinnedHTTPConnection(target, timeout)
    )
    status: int | None = None
    answer = b""
    try:
        connection.connect()
    except (OSError, ssl.SSLError, http.client.HTTPException, ValueError):
        error = CONNECTION_FAILED
    else:
        try:
            connection.request("POST", target.parsed.request_target, body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read(MAX_ANSWER_BYTES)
            status = response.status
            error = "" if 200 <= status < 300 else f"HTTP {status}"
        except TimeoutError:
            error = TIMED_OUT
        except http.client.HTTPException:
            error = INVALID_ANSWER
        except (OSError, ValueError):
            error = CONNECTION_FAILED
    finally:
        connection.close()
    return Result(status, error, int((time.monotonic() - started) * 1000), answer)


def _connect(target: Target, timeout: float | None) -> socket.socket:
    """A TCP connection to the first of the target's addresses that answers."""
    failure: OSError = OSError("no address")
    for address in target.addresses:
        try:
            return socket.create_connection((str(address), target.parsed.port), timeout)
        except OSError as error:
            failure = error
    raise failure


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """http.client, connecting to the checked addresses instead of resolving the host."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.parsed.host, target.parsed.port, timeout=timeout)
        self.target = target

    def connect(self) -> None:
        """Connect to a checked address; the host stays the name in ``Host``."""
        self.sock = _connect(self.target, self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    """The same over TLS: SNI and the certificate check are for the URL's host."""

    default_port = http.client.HTTPS_PORT

    def connect(self) -> None:
        """Connect to a checked address, then verify the certificate for the host."""
        super().connect()
        self.sock = _tls_context().wrap_socket(self.sock, server_hostname=self.target.parsed.host)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """The system's trusted certificates, hostname checks on (built once: loading the
    certificates takes a while)."""
    return ssl.create_default_context()
