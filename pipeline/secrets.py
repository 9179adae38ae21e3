"""Keeping secrets out of files and messages: API keys and credentials in base URLs."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

KEY_MARK = "[API key]"


def redact_url(url: str | None) -> str | None:
    """Drop user:password from a URL before it reaches disk or a message."""
    if not url:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def scrub(text: str, key: str | None, url: str | None = None) -> str:
    """`text` with the key and the URL's credentials taken out: a provider may echo either."""
    if key and len(key) >= 8:  # a short placeholder is no secret, and would hit ordinary words
        text = text.replace(key, KEY_MARK)
    if url and url != redact_url(url):
        text = text.replace(url, redact_url(url) or "")
        credentials = urlsplit(url).netloc.rsplit("@", 1)[0]
        text = text.replace(credentials, "[credentials]")
    return text
