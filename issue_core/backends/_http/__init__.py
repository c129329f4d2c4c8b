"""The shared HTTP layer of the remote backends (Gitea, GitHub, GitLab).

Importing this package imports httpx: only remote backends do, never the CLI's start-up path.
"""

from issue_core.backends._http.cache import ResponseCache, default_cache_dir
from issue_core.backends._http.client import (
    USER_AGENT,
    ApiResponse,
    AuthScheme,
    HttpClient,
    RequestStats,
    Timeouts,
)
from issue_core.backends._http.errors import AmbiguousWrite
from issue_core.backends._http.pagination import (
    GITEA_PAGES,
    GITHUB_PAGES,
    GITLAB_PAGES,
    PageStyle,
    fetch_concurrently,
    parse_link_header,
)
from issue_core.backends._http.ratelimit import RateLimitPolicy
from issue_core.backends._http.redact import Redactor
from issue_core.backends._http.retry import RetryPolicy

__all__ = [
    "GITEA_PAGES",
    "GITHUB_PAGES",
    "GITLAB_PAGES",
    "USER_AGENT",
    "AmbiguousWrite",
    "ApiResponse",
    "AuthScheme",
    "HttpClient",
    "PageStyle",
    "RateLimitPolicy",
    "Redactor",
    "RequestStats",
    "ResponseCache",
    "RetryPolicy",
    "Timeouts",
    "default_cache_dir",
    "fetch_concurrently",
    "parse_link_header",
]
