"""The Dockerfile and the Kubernetes manifests agree with the code they deploy.

No image is built here (no Docker needed): the files are read as text and YAML, and every
command line they run is checked against floe's real click command tree, every path and
port against the HTTP server's constants, every channel against the Makefile's.
"""

from __future__ import annotations

import json
import re
import shlex
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from floe_alert_alertmanager import AlertmanagerAlertChannel
from floe_core.alerting.channels import build_channels
from floe_core.cli import monitor as monitor_cli
from floe_core.cli.main import cli
from floe_core.manifest import load_manifest
from floe_core.monitoring.http import DEFAULT_PORT, HEALTH_PATH, METRICS_PATH, READY_PATH
from floe_core.monitoring.service import SHUTDOWN_GRACE_SECONDS
from floe_core.plugins.registry import PluginRegistry
from floe_core.plugins.types import PluginType
from floe_core.state.url import STATE_URL_ENV

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
KUBERNETES = ROOT / "deploy" / "kubernetes"
MONITOR = ["floe", "sla", "monitor"]
#: The monitor's shutdown grace, in seconds: the pod must be given longer than that.
SHUTDOWN_GRACE = SHUTDOWN_GRACE_SECONDS


# The Dockerfile, as (instruction, arguments) with continuation lines joined.


def dockerfile() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def instructions(name: str) -> list[str]:
    return [arguments for instruction, arguments in dockerfile() if instruction == name]


def exec_form(arguments: str) -> list[str]:
    """An instruction's JSON array (exec form): no shell between Docker and floe."""
    value = json.loads(arguments)
    assert isinstance(value, list), f"not in exec form: {arguments}"
    return [str(item) for item in value]


def makefile_channels() -> list[str]:
    [line] = re.findall(r"^CHANNELS\s*:=\s*(.+)$", (ROOT / "Makefile").read_text(), re.M)
    return str(line).split()


# The Kubernetes manifests, every document of every file.


def resources() -> list[dict[str, Any]]:
    found = []
    for path in sorted(KUBERNETES.glob("*.yaml")):
        found += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return found


def resource(kind: str, name: str | None = None) -> dict[str, Any]:
    [found] = [
        doc
        for doc in resources()
        if doc["kind"] == kind and (name is None or doc["metadata"]["name"] == name)
    ]
    return found


def pod_spec() -> dict[str, Any]:
    spec: dict[str, Any] = resource("Deployment")["spec"]["template"]["spec"]
    return spec


def monitor_container() -> dict[str, Any]:
    [container] = pod_spec()["containers"]
    return dict(container)


# The command lines run by the image and the pods, checked against the click tree.


def option_value(argv: list[str], option: str) -> str:
    return argv[argv.index(option) + 1]


def command_at(words: list[str]) -> click.Command:
    """The click command ``floe WORDS...`` names (a usage error if it has none)."""
    assert words[0] == "floe"
    command: click.Command = cli
    for depth, word in enumerate(words[1:], start=1):
        assert isinstance(command, click.Group), f"{' '.join(words[:depth])} takes no subcommand"
        if word not in command.commands and words[: depth + 1] == MONITOR:
            pytest.skip("floe sla monitor not built yet")
        assert word in command.commands, f"{' '.join(words[: depth + 1])} is not a floe command"
        command = command.commands[word]
    return command


def check_command_line(words: list[str], args: list[str]) -> None:
    """Every ``--option`` in ``args`` exists on ``floe WORDS`` and takes the value given."""
    command = command_at(words)
    options = {name: p for p in command.params for name in p.opts if isinstance(p, click.Option)}
    index = 0
    while index < len(args):
        name = args[index]
        assert name.startswith("--"), f"{' '.join(words)}: unexpected argument {name!r}"
        assert name in options, f"{' '.join(words)} has no option {name}"
        option = options[name]
        if option.is_flag:
            index += 1
            continue
        value = args[index + 1]
        # Paths exist only in the container; anything else must convert (a port, a choice).
        if not isinstance(option.type, click.Path):
            option.type.convert(value, option, None)
        index += 2


def command_lines() -> dict[str, tuple[list[str], list[str]]]:
    """Each command line the deployment runs: (command words, options)."""
    [entrypoint] = instructions("ENTRYPOINT")
    [cmd] = instructions("CMD")
    [init] = pod_spec()["initContainers"]
    lines = {
        "Dockerfile ENTRYPOINT + CMD": (exec_form(entrypoint), exec_form(cmd)),
        "monitor container (image ENTRYPOINT + args)": (
            exec_form(entrypoint),
            [str(arg) for arg in monitor_container()["args"]],
        ),
        "state-db-upgrade init container": (init["command"], init["args"]),
    }
    assert "command" not in monitor_container(), "the monitor runs the image's ENTRYPOINT"
    return lines


@pytest.mark.parametrize("where", list(command_lines()))
def test_every_command_line_is_a_real_floe_command(where: str) -> None:
    words, args = command_lines()[where]
    check_command_line(words, args)


def test_the_image_runs_the_monitor_through_floes_console_script() -> None:
    [entrypoint] = instructions("ENTRYPOINT")
    assert exec_form(entrypoint) == MONITOR
    [script] = entry_points(group="console_scripts", name="floe")
    assert script.value == "floe_core.cli.main:main"


# Ports, paths and annotations against the HTTP server's constants.


def test_ports_are_the_default_port() -> None:
    [expose] = instructions("EXPOSE")
    assert expose.split() == [str(DEFAULT_PORT)]
    for words, args in command_lines().values():
        if words == MONITOR:
            assert option_value(args, "--port") == str(DEFAULT_PORT)
            assert option_value(args, "--host") == "0.0.0.0"  # reachable from outside the pod
    [port] = monitor_container()["ports"]
    assert port == {"name": "http", "containerPort": DEFAULT_PORT, "protocol": "TCP"}
    [service_port] = resource("Service")["spec"]["ports"]
    assert service_port["port"] == DEFAULT_PORT
    assert service_port["targetPort"] == "http"


def test_probes_ask_the_health_paths() -> None:
    container = monitor_container()
    probes = {
        "livenessProbe": HEALTH_PATH,
        "startupProbe": HEALTH_PATH,
        "readinessProbe": READY_PATH,
    }
    for probe, path in probes.items():
        assert container[probe]["httpGet"] == {"path": path, "port": "http"}, probe
    [healthcheck] = instructions("HEALTHCHECK")
    assert f"http://127.0.0.1:{DEFAULT_PORT}{HEALTH_PATH}'" in healthcheck


@pytest.mark.parametrize("where", ["Service", "pod template"])
def test_prometheus_scrapes_the_metrics_path(where: str) -> None:
    deployment = resource("Deployment")["spec"]["template"]
    metadata = resource("Service")["metadata"] if where == "Service" else deployment["metadata"]
    annotations = metadata["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == str(DEFAULT_PORT)
    assert annotations["prometheus.io/path"] == METRICS_PATH


def test_the_service_selects_the_pods() -> None:
    selector = resource("Service")["spec"]["selector"]
    deployment = resource("Deployment")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert selector.items() <= labels.items()
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_the_pods_are_given_longer_than_the_monitors_shutdown_grace() -> None:
    assert resource("Deployment")["spec"]["replicas"] == 2
    assert pod_spec()["terminationGracePeriodSeconds"] > SHUTDOWN_GRACE
    limits = monitor_container()["resources"]["limits"]
    assert set(limits) == {"cpu", "memory"}


# The manifest and the secrets.


def test_the_manifest_is_mounted_where_the_monitor_reads_it(tmp_path: Path) -> None:
    manifest_path = option_value([str(a) for a in monitor_container()["args"]], "--manifest")
    [cmd] = instructions("CMD")
    assert option_value(exec_form(cmd), "--manifest") == manifest_path
    [mount] = [m for m in monitor_container()["volumeMounts"] if m["name"] == "manifest"]
    [volume] = [v for v in pod_spec()["volumes"] if v["name"] == "manifest"]
    [item] = volume["configMap"]["items"]
    assert f"{mount['mountPath']}/{item['path']}" == manifest_path
    config_map = resource("ConfigMap", volume["configMap"]["name"])

    # It is a manifest floe reads, whose channels are ones the image installs.
    file = tmp_path / "manifest.yaml"
    file.write_text(config_map["data"][item["key"]])
    manifest = load_manifest(file)
    registry = PluginRegistry(lambda group: ())
    registry.register(PluginType.ALERT_CHANNEL, "alertmanager", AlertmanagerAlertChannel)
    channels = build_channels(manifest.plugins.alert_channels, registry=registry, source=file)
    assert [channel.name for channel in channels] == ["alertmanager"]
    assert manifest.state.url is None  # the state database comes from the Secret


def test_secrets_come_from_the_example_secret() -> None:
    secret = resource("Secret")
    containers = [monitor_container(), *pod_spec()["initContainers"]]
    for container in containers:
        env = {variable["name"]: variable for variable in container["env"]}
        assert "value" not in env[STATE_URL_ENV], "the state URL holds a password"
        for variable in env.values():
            reference = variable["valueFrom"]["secretKeyRef"]
            assert reference["name"] == secret["metadata"]["name"]
            assert reference["key"] in secret["stringData"]
    assert secret["stringData"][STATE_URL_ENV].startswith("postgresql://")


def test_kustomization_lists_files_that_exist() -> None:
    kustomization = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())
    for name in kustomization["resources"]:
        assert (KUBERNETES / name).is_file(), name
    # The example Secret is applied by hand, filled in, never with placeholder values.
    assert "secret.example.yaml" not in kustomization["resources"]


# The image: what it installs and who runs it.


def test_the_image_installs_floe_core_and_every_channel_of_the_makefile() -> None:
    installed = {word for run in instructions("RUN") for word in shlex.split(run)}
    wanted = {"packages/floe-core"} | {f"packages/floe-alert-{c}" for c in makefile_channels()}
    assert wanted <= installed
    assert len(makefile_channels()) == 5


def test_the_image_is_python_slim_and_runs_unprivileged() -> None:
    [version] = [arg.split("=", 1)[1] for arg in instructions("ARG") if arg.startswith("PYTHON")]
    assert version in ("3.11", "3.12")
    assert all(image.startswith("python:${PYTHON_VERSION}-slim") for image in instructions("FROM"))
    user = instructions("USER")[-1].split(":")[0]
    assert user not in ("root", "0")
    assert pod_spec()["securityContext"]["runAsUser"] == int(user)


def test_dockerignore_keeps_local_state_out_of_the_build() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in [".git", ".venv*", ".floe", "**/__pycache__", ".mypy_cache", "**/*.so"]:
        assert entry in ignored


def test_the_cli_defaults_are_the_codes() -> None:
    """The CLI spells its defaults out (so --help stays fast): they must be the code's."""
    assert monitor_cli.DEFAULT_PORT == DEFAULT_PORT
    assert monitor_cli.GRACE_SECONDS == SHUTDOWN_GRACE_SECONDS
