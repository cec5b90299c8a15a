"""Per-user request rates (settings.THROTTLE_RATES), counted in the shared "throttle" cache."""

from django.conf import settings
from django.core.cache import caches
from rest_framework.throttling import ScopedRateThrottle


class UserScopedRateThrottle(ScopedRateThrottle):
    """DRF's scoped throttle (per user, or per address when anonymous) with rates read from
    settings.THROTTLE_RATES on each request, so every web worker and a test's override agree."""

    @property
    def cache(self):
        return caches["throttle"]

    def get_rate(self):
        return settings.THROTTLE_RATES.get(self.scope)
