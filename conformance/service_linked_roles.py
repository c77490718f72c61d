"""Service-linked roles: created for a service, named by it, protected from changes, deleted
through DeleteServiceLinkedRole, assumable only by the service.

https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html
"""
from rolecall.property import Property
from rolecall.strategies.service_linked_roles import service_linked_role_scenarios

PROPERTIES = [
    Property(
        name="service_linked_role_lifecycle",
        cost=18,
        behaviour="service-linked roles",
        feature="service_linked_roles",
        strategy=service_linked_role_scenarios,
        description="CreateServiceLinkedRole names and places the role, refuses a taken name and a suffix the "
                    "service does not take; changing the role fails with UnmodifiableEntity; users cannot "
                    "assume it",
        source="https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html",
    ),
]
