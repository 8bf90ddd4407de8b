"""The deployment the script tests work against: the deploy script's own run, its record in a
temporary citypass.chain.deployment.DEPLOYMENTS_DIR."""

from __future__ import annotations

import pytest

from citypass.chain import deployment
from tests.scripts.helpers import project, script


@pytest.fixture(scope="module")
def deployments_dir(tmp_path_factory):
    patch = pytest.MonkeyPatch()
    path = tmp_path_factory.mktemp("deployments")
    patch.setattr(deployment, "DEPLOYMENTS_DIR", path)
    yield path
    patch.undo()


@pytest.fixture(scope="module")
def addresses(deployments_dir):
    """The deploy script's own run: what every other script then works against."""
    return script("deploy")


@pytest.fixture(scope="module")
def system(addresses):
    return deployment.load_deployment(project(), "development")
