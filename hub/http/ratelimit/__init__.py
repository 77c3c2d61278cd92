"""Client-side rate limiting that follows what each vendor reports about its budget."""

from hub.http.ratelimit.base import Permit, RateLimiter
from hub.http.ratelimit.bucket import CostBucket, LeakyBucket
from hub.http.ratelimit.window import HeaderWindow, MetaUsage

__all__ = ["CostBucket", "HeaderWindow", "LeakyBucket", "MetaUsage", "Permit", "RateLimiter"]
