"""courseflow's services: each one a package here, `services.<name>`."""

SERVICES = ("eligibility", "planner", "notifier")
