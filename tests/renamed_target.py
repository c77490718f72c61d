"""A planted bug for tests that need a target which really diverges: the reference model,
except that AccessDenied comes back as AccessDeniedException.

Tests copy this file under a module name of their own into a temporary folder they put on
PYTHONPATH (as a user's own target module would be); the target is then `<module>:factory`.
"""
from rolecall.targets.base import CallFailed
from rolecall.targets.reference import ReferenceTarget


class Renamed(ReferenceTarget):
    name = f"{__name__}:factory"

    def call(self, credentials, service, action, params):
        try:
            return super().call(credentials, service, action, params)
        except CallFailed as exc:
            if exc.code == "AccessDenied":
                raise CallFailed("AccessDeniedException", exc.http_status, exc.message) from None
            raise


def factory():
    return Renamed()
