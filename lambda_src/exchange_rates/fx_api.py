"""HTTP access to the exchange-rates API: standard library only, explicit connect and read timeouts."""

from __future__ import annotations

import http.client
import ipaddress
import ssl
from urllib.parse import urlsplit

#: Largest response body accepted; anything longer is not an exchange-rates payload.
MAX_BODY_BYTES = 1024 * 1024


class ApiError(RuntimeError):
    """The API could not be reached, was too slow, or did not answer 200: the run fails and is retried."""


class Unauthorized(ApiError):
    """The API rejected the key (401/403): the cached key may be stale."""


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str) -> None:
    """Accept ``https://`` URLs, and ``http://`` only on loopback (a local stand-in API for tests)."""
    parts = urlsplit(url)
    if not parts.hostname or parts.scheme not in ("https", "http"):
        raise ValueError(f"API_URL must be an https:// URL, got {url!r}")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ValueError(f"API_URL must use https:// (http:// only on loopback), got {url!r}")


def fetch_json_bytes(
    url: str, *, connect_timeout: float, read_timeout: float, headers: dict[str, str] | None = None
) -> bytes:
    """GET ``url`` and return the body of a 200 response; raise ``ApiError`` for anything else."""
    check_url(url)
    parts = urlsplit(url)
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(
            parts.hostname or "", parts.port, timeout=connect_timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=connect_timeout)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    try:
        connection.connect()
        assert connection.sock is not None
        connection.sock.settimeout(read_timeout)
        connection.request("GET", target, headers={"Accept": "application/json", **(headers or {})})
        response = connection.getresponse()
        body = response.read(MAX_BODY_BYTES + 1)
    except TimeoutError as error:
        raise ApiError(
            f"exchange-rates API timed out (connect {connect_timeout}s, read {read_timeout}s)"
        ) from error
    except (OSError, http.client.HTTPException) as error:
        raise ApiError(f"exchange-rates API unreachable: {error}") from error
    finally:
        connection.close()
    if response.status in (401, 403):
        raise Unauthorized(f"exchange-rates API rejected the API key (HTTP {response.status})")
    if response.status != 200:
        raise ApiError(f"exchange-rates API answered HTTP {response.status}")
    if len(body) > MAX_BODY_BYTES:
        raise ApiError(f"exchange-rates API response is larger than {MAX_BODY_BYTES} bytes")
    return body
