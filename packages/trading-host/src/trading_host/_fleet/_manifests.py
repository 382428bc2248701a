"""Kubernetes manifests and a compose file rendered from the fleet's plan: the same services,
replicas, environment, health path and gateway routes as on one machine. Each replica listens
on ``CONTAINER_PORT`` in its own container; the configuration (the matrix) is a ConfigMap in
Kubernetes and a mounted file in compose; the database URL is a Secret / an environment value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._layout import FleetPlan, Service
from ._model import Colour
from ._nginx import STREAM_READ_TIMEOUT, render

CONTAINER_PORT = 8000
CONFIG_PATH = "/etc/trading/trading.toml"
CONFIG_MAP = "trading-config"
SECRET = "trading-database"


def _name(service: Service) -> str:
    return f"trading-{service.name.replace('_', '-')}"


def _environment(plan: FleetPlan, service: Service) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = [{"name": "TRADING_CONFIG", "value": _config_path(service)}]
    for key, value in service.environment.items():
        if key == "TRADING_CONFIG":
            continue
        if key.endswith("__DATABASE_URL"):
            env.append({"name": key, "valueFrom": {"secretKeyRef": {"name": SECRET, "key": "database_url"}}})
        else:
            env.append({"name": key, "value": value})
    return env


def _config_path(service: Service) -> str:
    own = service.environment.get("TRADING_CONFIG")
    return str(Path(CONFIG_PATH).parent / Path(own).name) if own else CONFIG_PATH


def config_files(plan: FleetPlan) -> dict[str, str]:
    files = {} if plan.config_file is None else {"trading.toml": plan.config_file.read_text()}
    for service in plan.services.values():
        own = service.environment.get("TRADING_CONFIG")
        if own:
            files[Path(own).name] = Path(own).read_text()
    return files


def _command() -> list[str]:
    return ["trading-host", "serve", "--host", "0.0.0.0", "--port", str(CONTAINER_PORT)]


def kubernetes(plan: FleetPlan, active: dict[str, Colour], image: str) -> list[dict[str, Any]]:
    """Every object: the ConfigMap, the database Secret, a Deployment and a Service per fleet
    service, and Ingresses for the nginx ingress controller with the gateway's path rules."""
    objects: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": CONFIG_MAP}, "data": config_files(plan)},
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": SECRET},
            "type": "Opaque",
            "stringData": {"database_url": plan.config.database_url or ""},
        },
    ]
    for service in plan.services.values():
        name = _name(service)
        labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "trading-api"}
        probe = {"httpGet": {"path": service.health_path, "port": CONTAINER_PORT}, "periodSeconds": 5}
        objects.append(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": name, "labels": labels},
                "spec": {
                    "replicas": service.config.replicas,
                    "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {
                            "containers": [
                                {
                                    "name": "trading-host",
                                    "image": image,
                                    "command": _command(),
                                    "env": _environment(plan, service),
                                    "ports": [{"containerPort": CONTAINER_PORT, "name": "http"}],
                                    "readinessProbe": {**probe, "initialDelaySeconds": 2},
                                    "livenessProbe": {**probe, "initialDelaySeconds": 10, "failureThreshold": 3},
                                    "volumeMounts": [{"name": "config", "mountPath": str(Path(CONFIG_PATH).parent)}],
                                }
                            ],
                            "volumes": [{"name": "config", "configMap": {"name": CONFIG_MAP}}],
                        },
                    },
                },
            }
        )
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": name, "labels": labels},
                "spec": {
                    "selector": {"app.kubernetes.io/name": name},
                    "ports": [{"name": "http", "port": CONTAINER_PORT, "targetPort": CONTAINER_PORT}],
                },
            }
        )
    objects += _ingresses(plan)
    return objects


def _backend(plan: FleetPlan, service: str) -> dict[str, Any]:
    return {"service": {"name": _name(plan.services[service]), "port": {"number": CONTAINER_PORT}}}


def _ingresses(plan: FleetPlan) -> list[dict[str, Any]]:
    """A rewrite is per Ingress in the nginx ingress controller: one Ingress per standalone route
    (a regular expression and its rewrite target), one for the routes passed unchanged."""
    plain: list[dict[str, Any]] = []
    objects = []
    for i, route in enumerate(plan.routes):
        if route.upstream is None:
            plain.append(
                {
                    "path": route.location,
                    "pathType": "Exact" if route.exact else "Prefix",
                    "backend": _backend(plan, route.service),
                }
            )
            continue
        annotations = {"nginx.ingress.kubernetes.io/use-regex": "true"}
        if route.exact:
            path = route.location
            annotations["nginx.ingress.kubernetes.io/rewrite-target"] = route.upstream
        else:
            path = route.location.rstrip("/") + "(/|$)(.*)"
            annotations["nginx.ingress.kubernetes.io/rewrite-target"] = route.upstream + "$2"
            annotations["nginx.ingress.kubernetes.io/x-forwarded-prefix"] = route.location.rstrip("/")
        if route.websocket:
            annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"] = str(STREAM_READ_TIMEOUT)
            annotations["nginx.ingress.kubernetes.io/proxy-send-timeout"] = str(STREAM_READ_TIMEOUT)
        objects.append(
            _ingress(
                f"trading-route-{i}",
                [{"path": path, "pathType": "ImplementationSpecific", "backend": _backend(plan, route.service)}],
                annotations,
            )
        )
    if plain:
        objects.append(_ingress("trading-gateway", plain, {}))
    return objects


def _ingress(name: str, paths: list[dict[str, Any]], annotations: dict[str, str]) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if annotations:
        metadata["annotations"] = annotations
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": metadata,
        "spec": {"ingressClassName": "nginx", "rules": [{"http": {"paths": paths}}]},
    }


def compose(plan: FleetPlan, active: dict[str, Colour], image: str) -> tuple[dict[str, Any], str]:
    """The compose file and the gateway's nginx.conf beside it (upstreams by service name: Docker's
    DNS answers with every replica's address)."""
    services: dict[str, Any] = {}
    for service in plan.services.values():
        env = {**service.environment, "TRADING_CONFIG": _config_path(service)}
        services[_name(service)] = {
            "image": image,
            "command": _command(),
            "environment": env,
            "volumes": [f"./{name}:{Path(CONFIG_PATH).parent / name}:ro" for name in config_files(plan)],
            "deploy": {"replicas": service.config.replicas},
            "healthcheck": {
                "test": [
                    "CMD",
                    "python",
                    "-c",
                    f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{CONTAINER_PORT}{service.health_path}')",
                ],
                "interval": "5s",
                "timeout": "3s",
                "retries": 3,
            },
        }
    services["gateway"] = {
        "image": "nginx:1.27",
        "command": ["nginx", "-c", "/etc/trading/nginx.conf", "-g", "daemon off;"],
        "volumes": ["./nginx.conf:/etc/trading/nginx.conf:ro"],
        "ports": [f"{plan.gateway_port}:8080"],
        "depends_on": {name: {"condition": "service_healthy"} for name in services},
    }
    conf = render(
        plan,
        active,
        Path("/var/run"),
        servers=lambda service, colour: [f"{_name(service)}:{CONTAINER_PORT}"],
        listen="8080",
    )
    return {"name": "trading-api", "services": services}, conf
