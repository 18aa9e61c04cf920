"""The workers and the MASH page as Kubernetes workloads (deploy/k8s/mash-broker.yaml).

What deploy/README.md ("Workers") asks of production, as resources:

- the workers are a **StatefulSet**: each has its own persistent volume for RocksDB
  (`MASH_STATE_DIR`, never shared) and a stable, resolvable name through a headless
  Service (`MASH_WORKER_WEB_HOST`: the workers locate each other's table partitions by
  it, so its addresses are published before a pod is ready);
- probes on `/health/live` and `/health/ready` (docs/operations.md), with a startup
  probe long enough for a worker to restore its tables from the changelogs;
- each connects as its own KafkaUser (broker/kafka/manifests.py): the SCRAM password
  from the Secret Strimzi's user operator writes, the cluster CA from Strimzi's Secret;
- a **ServiceMonitor** scrapes the workers' `/metrics`; the worker's port is never
  exposed beyond the cluster (no Ingress, no LoadBalancer: table values are personal
  data, deploy/README.md "What not to do");
- the page is a Deployment behind a ClusterIP Service; the estate's ingress (TLS) is
  the platform team's, so secure cookies are on.
"""

from __future__ import annotations

from typing import Any, Final

from broker.kafka.estate import APP_ID, PARTITIONS, REPLICAS, WEB_USER, WORKER_USER

CLUSTER: Final = "mash-kafka"
"""The Strimzi Kafka's name: its bootstrap Service and CA Secret are named after it."""
BOOTSTRAP: Final = f"{CLUSTER}-kafka-bootstrap:9093"
IMAGE: Final = "mash-broker:0.1.0"
"""Built from deploy/Dockerfile; an estate's overlay points it at its own registry."""
WORKER: Final = "mash-broker-worker"
WEB: Final = "mash-web"
WORKER_PORT: Final = 6066
WEB_PORT: Final = 8080
WORKERS: Final = 3
CA_DIR: Final = "/etc/mash-broker/kafka-ca"
STATE: Final = "/var/lib/mash-broker"


def _labels(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "mash-broker"}


def _value(name: str, value: str) -> dict[str, Any]:
    return {"name": name, "value": value}


def _secret(name: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def _kafka_env(user: str) -> list[dict[str, Any]]:
    """Connect over TLS with SCRAM as `user`; trust Strimzi's cluster CA only."""
    return [
        _value("MASH_KAFKA_BOOTSTRAP", BOOTSTRAP),
        _value("MASH_KAFKA_SECURITY_PROTOCOL", "SASL_SSL"),
        _value("MASH_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),
        _value("MASH_KAFKA_SASL_USERNAME", user),
        _secret("MASH_KAFKA_SASL_PASSWORD", user, "password"),
        _value("SSL_CERT_FILE", f"{CA_DIR}/ca.crt"),
        _value("MASH_APP_ID", APP_ID),
        _value("MASH_TIMEZONE", "Europe/London"),
    ]


def _probe(path: str, port: str, *, period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": port},
        "periodSeconds": period,
        "timeoutSeconds": 5,
        "failureThreshold": failures,
    }


def _container(name: str, args: list[str], port: int, env: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": name,
        "image": IMAGE,
        "args": args,
        "ports": [{"name": "http", "containerPort": port}],
        "env": env,
        "startupProbe": _probe("/health/live", "http", period=5, failures=120),
        "livenessProbe": _probe("/health/live", "http", period=10, failures=3),
        "readinessProbe": _probe("/health/ready", "http", period=10, failures=3),
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [{"name": "kafka-ca", "mountPath": CA_DIR, "readOnly": True}],
    }


def _pod(name: str, container: dict[str, Any], volumes: list[dict[str, Any]]) -> dict[str, Any]:
    ca = {"secret": {"secretName": f"{CLUSTER}-cluster-ca-cert", "items": [_ca_item()]}}
    return {
        "metadata": {"labels": _labels(name)},
        "spec": {
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 10001,
                "fsGroup": 10001,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            # A worker leaves its group and commits on SIGTERM (deploy/README.md).
            "terminationGracePeriodSeconds": 60,
            "containers": [container],
            "volumes": [{"name": "kafka-ca", **ca}, *volumes],
        },
    }


def _ca_item() -> dict[str, str]:
    return {"key": "ca.crt", "path": "ca.crt"}


def worker() -> list[dict[str, Any]]:
    env = [
        *_kafka_env(WORKER_USER),
        _value("MASH_TOPIC_PARTITIONS", str(PARTITIONS)),
        _value("MASH_TOPIC_REPLICATION", str(REPLICAS)),
        _value("MASH_STORE", "rocksdb"),
        _value("MASH_STATE_DIR", f"{STATE}/state"),
        _value("MASH_SCHEMAS_DIR", "/app/schemas"),
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        _value("MASH_WORKER_WEB_HOST", f"$(POD_NAME).{WORKER}.$(POD_NAMESPACE).svc.cluster.local"),
        _value("MASH_WORKER_WEB_PORT", str(WORKER_PORT)),
    ]
    container = _container("worker", ["mash-broker", "worker"], WORKER_PORT, env)
    container["resources"] = {
        "requests": {"cpu": "1", "memory": "1Gi"},
        "limits": {"memory": "2Gi"},
    }
    container["volumeMounts"].append({"name": "state", "mountPath": STATE})
    claim = {
        "metadata": {"name": "state"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "20Gi"}}},
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": WORKER, "labels": _labels(WORKER)},
        "spec": {
            "clusterIP": "None",
            "publishNotReadyAddresses": True,
            "selector": _labels(WORKER),
            "ports": [{"name": "http", "port": WORKER_PORT, "targetPort": "http"}],
        },
    }
    stateful_set = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": WORKER, "labels": _labels(WORKER)},
        "spec": {
            "serviceName": WORKER,
            "replicas": WORKERS,
            "podManagementPolicy": "Parallel",
            "selector": {"matchLabels": _labels(WORKER)},
            "template": _pod(WORKER, container, []),
            "volumeClaimTemplates": [claim],
        },
    }
    budget = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": WORKER, "labels": _labels(WORKER)},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": _labels(WORKER)}},
    }
    monitor = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": WORKER, "labels": _labels(WORKER)},
        "spec": {
            "selector": {"matchLabels": _labels(WORKER)},
            "endpoints": [{"port": "http", "path": "/metrics", "interval": "30s"}],
        },
    }
    return [service, stateful_set, budget, monitor]


def page() -> list[dict[str, Any]]:
    """The MASH page: its users file and session secret are the estate's Secrets."""
    env = [
        *_kafka_env(WEB_USER),
        _value("MASH_WEB_HOST", "0.0.0.0"),  # noqa: S104 (inside its pod, behind the Service)
        _value("MASH_WEB_PORT", str(WEB_PORT)),
        _value("MASH_WEB_USERS_FILE", "/etc/mash-web/users/users.json"),
        _secret("MASH_WEB_SESSION_SECRET", "mash-web-session", "secret"),
        _value("MASH_WEB_SECURE_COOKIES", "true"),
    ]
    container = _container("web", ["mash-broker", "web"], WEB_PORT, env)
    container["resources"] = {
        "requests": {"cpu": "250m", "memory": "512Mi"},
        "limits": {"memory": "1Gi"},
    }
    container["volumeMounts"].append(
        {"name": "users", "mountPath": "/etc/mash-web/users", "readOnly": True}
    )
    users = {"name": "users", "secret": {"secretName": "mash-web-users"}}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": WEB, "labels": _labels(WEB)},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": _labels(WEB)},
            "template": _pod(WEB, container, [users]),
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": WEB, "labels": _labels(WEB)},
        "spec": {
            "selector": _labels(WEB),
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
        },
    }
    return [deployment, service]


def workloads() -> list[dict[str, Any]]:
    return [*worker(), *page()]
