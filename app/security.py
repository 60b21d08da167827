"""Headers and limits for a public API: nosniff, a strict Content-Security-Policy, bounded requests.

The CSP allows only the app's own origin: the docs pages load their scripts and styles from
`/static/`, never from a CDN, and no page runs inline script.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def _policy(style_src: str) -> bytes:
    return (
        "default-src 'self'; script-src 'self'; "
        f"style-src {style_src}; img-src 'self' data:; font-src 'self'; connect-src 'self'; "
        "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ).encode()


CONTENT_SECURITY_POLICY = _policy("'self'")
# Swagger UI and ReDoc set styles from their scripts (ReDoc's styled-components cannot start without),
# so the two docs pages also allow inline *styles*. Scripts, everywhere, come only from the app itself.
DOCS_CONTENT_SECURITY_POLICY = _policy("'self' 'unsafe-inline'")
DOCS_PAGES = frozenset({"/docs", "/redoc"})
HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
MAX_TARGET = 8 * 1024  # path plus query string
MAX_HEADERS = 16 * 1024


def _reject(status: int, title: bytes, detail: bytes) -> list[Message]:
    body = (
        b'{"type":"about:blank","title":"'
        + title
        + b'","status":'
        + str(status).encode()
        + b',"detail":"'
        + detail
        + b'","code":"request-too-large"}'
    )
    return [
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *HEADERS,
                (b"content-security-policy", CONTENT_SECURITY_POLICY),
            ],
        },
        {"type": "http.response.body", "body": body},
    ]


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if len(scope.get("raw_path") or scope["path"].encode()) + len(scope["query_string"]) > MAX_TARGET:
            for message in _reject(414, b"URI Too Long", b"the request target is longer than 8 KiB"):
                await send(message)
            return
        if sum(len(k) + len(v) for k, v in scope["headers"]) > MAX_HEADERS:
            for message in _reject(431, b"Request Header Fields Too Large", b"the headers exceed 16 KiB"):
                await send(message)
            return

        policy = DOCS_CONTENT_SECURITY_POLICY if scope["path"] in DOCS_PAGES else CONTENT_SECURITY_POLICY

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    *HEADERS,
                    (b"content-security-policy", policy),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)
