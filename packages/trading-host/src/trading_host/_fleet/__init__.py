"""Running the platform as a fleet: the plan of its processes (``[fleet]`` in the configuration)
and its renderings (nginx, supervisord, Kubernetes, compose), and the one-machine runner."""
