"""pytest fixtures: a `vcd-sim serve --control-api` process per test module,
started from a snapshot, and a small client of its control API.

Environment:
  VCD_SIM_BIN       the vcd-sim binary (default: `vcd-sim` on PATH)
  VCD_SIM_SNAPSHOT  a snapshot file to start from (GET /_sim/snapshot); optional
"""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
import requests


class SimControl:
    """The control API of one simulator: faults, clock, reset, snapshots."""

    def __init__(self, info):
        self.info = info
        self.url = info["control_url"]
        self.http = requests.Session()
        # The token authorizes the control API only; it is never printed.
        self.http.headers["Authorization"] = "Bearer " + info["control_token"]

    def _json(self, response):
        response.raise_for_status()
        return response.json() if response.content else None

    def add_fault(self, surface, match, **rule):
        body = dict(rule, surface=surface, match=match)
        return self._json(self.http.post(self.url + "/faults", json=body))["id"]

    def faults(self):
        return self._json(self.http.get(self.url + "/faults"))

    def clear_faults(self):
        self._json(self.http.delete(self.url + "/faults"))

    def clock(self, **change):
        if change:
            return self._json(self.http.put(self.url + "/clock", json=change))
        return self._json(self.http.get(self.url + "/clock"))

    def reset(self):
        self._json(self.http.post(self.url + "/reset"))

    def snapshot(self):
        response = self.http.get(self.url + "/snapshot")
        response.raise_for_status()
        return response.content

    def about(self):
        return self._json(self.http.get(self.url + "/about"))


@pytest.fixture(scope="module")
def sim():
    """A running simulator (plain HTTP, instant clock) and its control API."""
    binary = os.environ.get("VCD_SIM_BIN") or shutil.which("vcd-sim")
    if not binary:
        pytest.fail("set VCD_SIM_BIN to the vcd-sim binary")
    workdir = tempfile.mkdtemp()
    info_file = os.path.join(workdir, "info.json")
    args = [binary, "serve", "--control-api", "--plain-http", "--bind", "127.0.0.1:0",
            "--time-scale", "0", "--info-file", info_file]
    snapshot = os.environ.get("VCD_SIM_SNAPSHOT")
    if snapshot:
        args += ["--load", snapshot]
    log = open(os.path.join(workdir, "vcd-sim.log"), "w")
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.time() + 30
    info = None
    while info is None:
        if process.poll() is not None:
            pytest.fail("vcd-sim exited early; see " + log.name)
        if time.time() > deadline:
            process.kill()
            pytest.fail("vcd-sim wrote no info file")
        try:
            with open(info_file) as f:
                info = json.load(f)
        except (OSError, ValueError):
            time.sleep(0.05)
    try:
        yield SimControl(info)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def control(sim):
    """The control API, with every fault cleared after the test."""
    yield sim
    sim.clear_faults()
